/**
 * Integration tests run against a real broker: the one at KAFKA_BROKERS if it answers, else the local
 * KRaft broker that scripts/kafka/kafka.sh starts (and stops again afterwards).
 *
 * The 'integration' project also needs a Confluent-compatible schema registry: the one at
 * SCHEMA_REGISTRY_URL if it answers, else the local Apicurio Registry that scripts/registry/registry.sh
 * starts on the URL's port (and stops again afterwards), at the same time as the broker. The 'faults'
 * project gets the URL too but never starts a registry.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string[];
    /** Base URL of the Confluent-compatible API, without a trailing slash (…/apis/ccompat/v7 for Apicurio). */
    registryUrl: string;
  }
}

const DEFAULT_REGISTRY_URL = 'http://127.0.0.1:8081/apis/ccompat/v7';
/** Projects whose tests use the registry. */
const REGISTRY_PROJECTS = new Set(['integration']);

function reachable(broker: string): Promise<boolean> {
  const [host, port] = broker.split(':') as [string, string];
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port), timeout: 1_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** A registry answers when listing its subjects succeeds (Apicurio answers 503 until its storage is up). */
async function registryReachable(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/** Runs `bash scripts/<name>/<name>.sh <command>` with its output on ours; rejects unless it exits 0. */
function script(
  name: 'kafka' | 'registry',
  command: 'start' | 'stop',
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const path = `scripts/${name}/${name}.sh`;
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path, command], { stdio: 'inherit', env: { ...process.env, ...env } });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`bash ${path} ${command} failed (${signal ?? `exit code ${code}`})`));
    });
  });
}

/** The port scripts/registry/registry.sh must use to serve `url`; throws for a registry it cannot start. */
function localRegistryPort(url: string): string {
  const parsed = new URL(url);
  const local = ['127.0.0.1', 'localhost'].includes(parsed.hostname);
  if (!local || parsed.protocol !== 'http:' || parsed.pathname.replace(/\/$/, '') !== '/apis/ccompat/v7') {
    throw new Error(
      `no schema registry answers at ${url}, and scripts/registry/registry.sh can only start one at ` +
        `http://127.0.0.1:<port>/apis/ccompat/v7; start it, or point SCHEMA_REGISTRY_URL at a running registry`,
    );
  }
  return parsed.port || '80';
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((broker) => broker.trim());
  const registryUrl = (process.env.SCHEMA_REGISTRY_URL ?? DEFAULT_REGISTRY_URL).replace(/\/+$/, '');
  project.provide('kafkaBrokers', brokers);
  project.provide('registryUrl', registryUrl);

  const needsRegistry = REGISTRY_PROJECTS.has(project.name);
  const [kafkaUp, registryUp] = await Promise.all([
    reachable(brokers[0]!),
    needsRegistry ? registryReachable(registryUrl) : Promise.resolve(true),
  ]);

  // Both scripts run at once (each takes seconds to bring its JVM up). What this set-up starts, it stops:
  // at teardown, or at once if starting the other failed.
  const services: Array<{ name: 'kafka' | 'registry'; env: NodeJS.ProcessEnv }> = [];
  if (!kafkaUp) services.push({ name: 'kafka', env: { KAFKA_PORT: brokers[0]!.split(':')[1]! } });
  if (!registryUp) {
    services.push({ name: 'registry', env: { REGISTRY_PORT: localRegistryPort(registryUrl) } });
  }

  const started: typeof services = [];
  const teardown = async (): Promise<void> => {
    const stopping = started.splice(0).map(({ name, env }) => script(name, 'stop', env));
    const failed = (await Promise.allSettled(stopping)).find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  };
  const starting = services.map(async (service) => {
    await script(service.name, 'start', service.env);
    started.push(service);
  });
  const failed = (await Promise.allSettled(starting)).find((result) => result.status === 'rejected');
  if (failed) {
    await teardown().catch(() => undefined); // the start failure is the one to report
    throw failed.reason;
  }
  return teardown;
}
