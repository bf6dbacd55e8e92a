/** The broker under the benchmarks: starting the local one when none answers, and per-run topics. */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { packagePath } from '../../src/config/index.js';
import { createTopicsWithLeaders, fetchTopicEnds } from '../../src/kafka/index.js';

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
    await createTopicsWithLeaders(
      admin,
      topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
    );
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
export async function waitForStableGroup(
  kafka: Kafka,
  groupId: string,
  members = 1,
  timeoutMs = 60_000,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const { groups } = await admin.describeGroups([groupId]);
      if (groups[0]?.state === 'Stable' && groups[0].members.length >= members) return;
      await sleep(100);
    }
    throw new Error(
      `consumer group ${groupId} did not become stable with ${members} members within ${timeoutMs} ms`,
    );
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

const READ_TIMEOUT_MS = 60_000;

/**
 * Records and bytes (keys, values and headers, as the producer handed them over) in a topic, read from the
 * beginning to the end offsets it had when called. For after a run: reading competes for the CPU.
 */
export async function topicPayloadBytes(
  kafka: Kafka,
  topic: string,
): Promise<{ records: number; bytes: number }> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await fetchTopicEnds(admin, topic).finally(() => admin.disconnect());
  const remaining = new Map(
    ends
      .filter(({ high, low }) => BigInt(high) > BigInt(low))
      .map(({ partition, high }) => [partition, BigInt(high)]),
  );
  const totals = { records: 0, bytes: 0 };
  if (remaining.size === 0) return totals;
  const consumer = kafka.consumer({ groupId: uniqueName('bytes-reader'), allowAutoTopicCreation: false });
  let finished: () => void = () => undefined;
  // Transaction markers take offsets no record reports; a reader waiting for them must give up, not hang.
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve, reject) => {
    finished = resolve;
    timer = setTimeout(
      () => reject(new Error(`${topic} was not read to its end within ${READ_TIMEOUT_MS} ms`)),
      READ_TIMEOUT_MS,
    );
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          totals.records += 1;
          totals.bytes += (message.key?.length ?? 0) + (message.value?.length ?? 0);
          for (const [name, value] of Object.entries(message.headers ?? {})) {
            totals.bytes += Buffer.byteLength(name);
            for (const part of Array.isArray(value) ? value : [value]) {
              if (part !== undefined) totals.bytes += Buffer.byteLength(part);
            }
          }
        }
        const end = remaining.get(batch.partition);
        if (end !== undefined && BigInt(batch.lastOffset()) + 1n >= end) remaining.delete(batch.partition);
        if (remaining.size === 0) finished();
      },
    });
    await done;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
  return totals;
}
