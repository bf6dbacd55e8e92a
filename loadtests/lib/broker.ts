/** The broker under the benchmarks: starting the local one when none answers, and per-run topics. */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { packagePath } from '../../src/config/index.js';

const KAFKA_SCRIPT = packagePath('scripts/kafka/kafka.sh');

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

function kafkaScript(args: string[], port: string): void {
  execFileSync('bash', [KAFKA_SCRIPT, ...args], {
    stdio: 'inherit',
    env: { ...process.env, KAFKA_PORT: port },
  });
}

/**
 * Uses the broker at `brokers` when it answers; otherwise starts the local one on that port and returns
 * how to stop it again, so a benchmark leaves the machine as it found it.
 */
export async function ensureBroker(brokers: readonly string[]): Promise<() => void> {
  const first = brokers[0]!;
  if (await reachable(first)) return () => undefined;
  const port = first.split(':')[1]!;
  kafkaScript(['start'], port);
  return () => kafkaScript(['stop'], port);
}

export function harnessKafka(brokers: readonly string[]): Kafka {
  return new Kafka({ clientId: 'streamscore-bench', brokers: [...brokers], logLevel: logLevel.NOTHING });
}

export function uniqueName(prefix: string): string {
  return `bench-${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function createTopics(
  kafka: Kafka,
  topics: readonly string[],
  partitions: number,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

/** Each run uses fresh topics; deleting them keeps the broker from accumulating a benchmark's worth of logs. */
export async function deleteTopics(kafka: Kafka, topics: readonly string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [...topics] });
  } catch {
    // A topic left behind costs disk, not correctness: the next run uses new names anyway.
  } finally {
    await admin.disconnect();
  }
}

/** Waits until the consumer group is Stable, so events sent from now on are fetched by a running consumer. */
export async function waitForStableGroup(kafka: Kafka, groupId: string, timeoutMs = 60_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const { groups } = await admin.describeGroups([groupId]);
      if (groups[0]?.state === 'Stable' && groups[0].members.length > 0) return;
      await sleep(100);
    }
    throw new Error(`consumer group ${groupId} did not become stable within ${timeoutMs} ms`);
  } finally {
    await admin.disconnect();
  }
}

export const kafkaTool = (brokers: readonly string[]) => {
  const port = brokers[0]!.split(':')[1]!;
  return (main: string, args: string[]): string =>
    execFileSync('bash', [KAFKA_SCRIPT, 'tool', main, ...args], {
      encoding: 'utf8',
      env: { ...process.env, KAFKA_PORT: port },
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 16 * 1024 * 1024,
    });
};
