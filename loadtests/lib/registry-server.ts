/**
 * The schema registry under the wire-format benchmark: the one answering on REGISTRY_PORT (default 8081)
 * when there is one, else the local Apicurio Registry started with scripts/registry/registry.sh and
 * stopped afterwards, as ensureBroker does for Kafka. Subjects are registered and removed with plain
 * fetch, as another team's producer would, independent of streamscore's registry client.
 */
import { execFileSync } from 'node:child_process';
import { packagePath } from '../../src/config/index.js';

const REGISTRY_SCRIPT = packagePath('scripts/registry/registry.sh');
const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
/** Apicurio's Confluent-compatible API. */
const CCOMPAT_PATH = '/apis/ccompat/v7';

export interface BenchRegistry {
  /** Base URL of the Confluent-compatible API, as registry.urls takes it. */
  url: string;
  /** True when this run started the registry (and stops it again). */
  startedHere: boolean;
  stop(): void;
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(3_000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

function registryScript(command: string, port: string): void {
  execFileSync('bash', [REGISTRY_SCRIPT, command], {
    stdio: 'inherit',
    env: { ...process.env, REGISTRY_PORT: port },
  });
}

/**
 * Uses the registry answering at 127.0.0.1:REGISTRY_PORT; otherwise starts the local one there and returns
 * how to stop it, so the benchmark leaves the machine as it found it.
 */
export async function ensureRegistry(): Promise<BenchRegistry> {
  const port = process.env.REGISTRY_PORT ?? '8081';
  const url = `http://127.0.0.1:${port}${CCOMPAT_PATH}`;
  if (await answers(url)) return { url, startedHere: false, stop: () => undefined };
  registryScript('start', port);
  if (!(await answers(url))) throw new Error(`the schema registry started on port ${port} does not answer`);
  return { url, startedHere: true, stop: () => registryScript('stop', port) };
}

/** Registers `schema` under `subject` (POST /subjects/<subject>/versions); its id. */
export async function registerSchema(url: string, subject: string, schema: string): Promise<number> {
  const response = await fetch(`${url}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    headers: { 'content-type': CONTENT_TYPE, accept: CONTENT_TYPE },
    body: JSON.stringify({ schema }),
  });
  const body = (await response.json()) as { id?: number };
  if (!response.ok || typeof body.id !== 'number') {
    throw new Error(`registering ${subject}: ${response.status} ${JSON.stringify(body)}`);
  }
  return body.id;
}

/** The schema text the registry holds under `id`. */
export async function schemaById(url: string, id: number): Promise<string> {
  const response = await fetch(`${url}/schemas/ids/${id}`, { headers: { accept: CONTENT_TYPE } });
  const body = (await response.json()) as { schema?: string };
  if (!response.ok || typeof body.schema !== 'string') {
    throw new Error(`schema ${id}: ${response.status} ${JSON.stringify(body)}`);
  }
  return body.schema;
}

/**
 * Removes the subjects a run registered (soft, then permanent delete), so a registry shared with other work
 * does not collect a benchmark's worth of them. Best effort: a subject left behind costs memory, nothing else.
 */
export async function deleteSubjects(url: string, subjects: readonly string[]): Promise<void> {
  for (const subject of subjects) {
    const path = `${url}/subjects/${encodeURIComponent(subject)}`;
    for (const suffix of ['', '?permanent=true']) {
      try {
        const response = await fetch(`${path}${suffix}`, {
          method: 'DELETE',
          headers: { accept: CONTENT_TYPE },
        });
        await response.arrayBuffer();
      } catch {
        // See above.
      }
    }
  }
}
