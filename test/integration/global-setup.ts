/**
 * Integration tests run against a real broker: the one at KAFKA_BROKERS if it answers, else the local
 * KRaft broker that scripts/kafka/kafka.sh starts (and stops again afterwards).
 *
 * The 'integration' project also needs a Confluent-compatible schema registry: the one at
 * SCHEMA_REGISTRY_URL if it answers, else the local Apicurio Registry that scripts/registry/registry.sh
 * starts on the URL's port (and stops again afterwards), at the same time as the broker. The 'faults'
 * project gets the URL too but never starts a registry.
 *
 * When the broker is the local one that scripts/kafka/kafka.sh runs, its secure listeners (SASL_SSL with
 * SCRAM/PLAIN, and mutual TLS) are provided as `kafkaSecure` (what `kafka.sh secure-info` prints); for any
 * other broker, or one an older kafka.sh started without them, `kafkaSecure` is undefined.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import type { TestProject } from 'vitest/node';

/** The local broker's secure listeners and the files a client needs for them (`kafka.sh secure-info`). */
export interface KafkaSecureInfo {
  /** host:port of the SASL_SSL listener: TLS, then SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN. */
  saslSsl: string;
  /** host:port of the SSL listener that requires a client certificate signed by `caFile`. */
  mtls: string;
  /** The test CA (PEM): it signed the broker certificate (SAN 127.0.0.1 only) and the client certificates. */
  caFile: string;
  /** Client certificate (CN=streamscore) and its unencrypted PKCS#8 key, accepted by the mTLS listener. */
  clientCert: string;
  clientKey: string;
  /** Signed by the test CA, but expired. */
  expiredCert: string;
  expiredKey: string;
  /** Signed by another CA (`otherCaFile`), which the broker does not trust. */
  untrustedCert: string;
  untrustedKey: string;
  /** A CA that did not sign the broker certificate. */
  otherCaFile: string;
  /** The SASL user (SCRAM-SHA-512, SCRAM-SHA-256 and PLAIN). */
  username: string;
  /** File holding the user's password (no trailing newline). */
  passwordFile: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string[];
    /** Base URL of the Confluent-compatible API, without a trailing slash (…/apis/ccompat/v7 for Apicurio). */
    registryUrl: string;
    /** The local broker's secure listeners; undefined unless the broker is the one scripts/kafka/kafka.sh runs. */
    kafkaSecure: KafkaSecureInfo | undefined;
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

const SECURE_INFO_KEYS = [
  'saslSsl',
  'mtls',
  'caFile',
  'clientCert',
  'clientKey',
  'expiredCert',
  'expiredKey',
  'untrustedCert',
  'untrustedKey',
  'otherCaFile',
  'username',
  'passwordFile',
] as const satisfies ReadonlyArray<keyof KafkaSecureInfo>;

/** The port of the one local broker scripts/kafka/kafka.sh can run, if `brokers` is that broker. */
function localKafkaPort(brokers: readonly string[]): string | undefined {
  const [host, port] = (brokers[0] ?? '').split(':');
  if (brokers.length !== 1 || (host !== '127.0.0.1' && host !== 'localhost') || !port) return undefined;
  return port;
}

/**
 * `bash scripts/kafka/kafka.sh secure-info` for the broker on `port`: its JSON, or the reason there is none
 * (the script exits 1 when no start of it has set up the secure listeners in that broker's state folder).
 */
function secureInfo(port: string): Promise<KafkaSecureInfo | string> {
  const path = 'scripts/kafka/kafka.sh';
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path, 'secure-info'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KAFKA_PORT: port },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code !== 0) {
        resolve(stderr.trim() || `bash ${path} secure-info failed (${signal ?? `exit code ${code}`})`);
        return;
      }
      const info = JSON.parse(stdout) as Record<string, unknown>;
      const missing = SECURE_INFO_KEYS.filter((key) => typeof info[key] !== 'string');
      if (missing.length > 0) {
        reject(new Error(`bash ${path} secure-info printed no string for ${missing.join(', ')}: ${stdout}`));
        return;
      }
      resolve(info as unknown as KafkaSecureInfo);
    });
  });
}

/**
 * The secure listeners of the local broker on `port`, once they answer. If this set-up started the broker
 * (`started`), they must be there; a broker that was already running may have been started by an older
 * kafka.sh, without them: then undefined, and a note on how to get them.
 */
async function localSecureInfo(port: string, started: boolean): Promise<KafkaSecureInfo | undefined> {
  const info = await secureInfo(port);
  let problem: string | undefined;
  if (typeof info === 'string') {
    problem = info.replace(/^\[kafka\] ERROR: /, '');
  } else {
    const down: string[] = [];
    for (const address of [info.saslSsl, info.mtls]) {
      if (!(await reachable(address))) down.push(address);
    }
    if (down.length === 0) return info;
    problem = `nothing answers on ${down.join(' and ')}`;
  }
  if (started) throw new Error(`the broker on port ${port} has no secure listeners: ${problem}`);
  console.warn(
    `[global-setup] kafkaSecure is undefined: the broker on 127.0.0.1:${port} was already running, ` +
      `without the secure listeners of scripts/kafka/kafka.sh (${problem}). ` +
      `Restart it with the script (KAFKA_PORT=${port} bash scripts/kafka/kafka.sh restart) to get them.`,
  );
  return undefined;
}

const COORDINATOR_WAIT_MS = 120_000;

/**
 * Waits until the broker can coordinate consumer groups. A fresh broker creates __consumer_offsets (50
 * partitions) at the first group request, which takes seconds to tens of seconds on a busy machine; until
 * then group requests fail (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE), and the first test to use a group
 * would pay that wait inside its own deadlines.
 */
async function groupCoordinatorReady(brokers: string[]): Promise<void> {
  const admin = new Kafka({
    brokers,
    clientId: 'streamscore-test-setup',
    logLevel: logLevel.NOTHING,
  }).admin();
  const deadline = Date.now() + COORDINATOR_WAIT_MS;
  await admin.connect();
  try {
    for (;;) {
      try {
        await admin.fetchOffsets({ groupId: 'streamscore-test-setup', topics: [] });
        return;
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error(
            `the broker at ${brokers.join(',')} could not coordinate consumer groups within ` +
              `${COORDINATOR_WAIT_MS} ms: ${String(error)}`,
          );
      }
      await sleep(500);
    }
  } finally {
    await admin.disconnect();
  }
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

  const localPort = localKafkaPort(brokers);
  try {
    project.provide('kafkaSecure', localPort ? await localSecureInfo(localPort, !kafkaUp) : undefined);
    await groupCoordinatorReady(brokers);
  } catch (error) {
    await teardown().catch(() => undefined);
    throw error;
  }
  return teardown;
}
