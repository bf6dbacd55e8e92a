/** Helpers for tests that talk to the real broker. */
import { randomUUID } from 'node:crypto';
import { type Admin, Kafka, type KafkaMessage, logLevel, type Producer } from 'kafkajs';
import { fetchTopicEnds } from '../../src/kafka/index.js';
import type { CardTransaction } from '../../src/sample/index.js';
import { eventCodec } from './codecs.js';

export function testKafka(brokers: string[], clientId = 'streamscore-test'): Kafka {
  return new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING });
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function withAdmin<T>(kafka: Kafka, use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Records in a topic written without transactions: its partitions' end offsets added up. */
export async function recordsIn(kafka: Kafka, topic: string): Promise<number> {
  const ends = await withAdmin(kafka, (admin) => fetchTopicEnds(admin, topic));
  return ends.reduce((sum, { high }) => sum + Number(high), 0);
}

// The benchmarks' creation, through the product's leader wait (src/kafka/topics.ts).
export { createTopics } from '../../loadtests/lib/broker.js';

export interface ReadRecord {
  partition: number;
  message: KafkaMessage;
}

/** Reads a topic from the beginning until `count` records arrived (or the deadline passed). */
export async function readRecords(
  kafka: Kafka,
  topic: string,
  count: number,
  timeoutMs: number,
): Promise<ReadRecord[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), allowAutoTopicCreation: false });
  const records: ReadRecord[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) records.push({ partition: batch.partition, message });
        if (records.length >= count) resolve();
      },
    });
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
  await consumer.disconnect();
  return records;
}

/** Offsets the group committed on `topic` against each partition's end offset. */
export async function committedVersusEnd(
  kafka: Kafka,
  groupId: string,
  topic: string,
): Promise<{ partition: number; committed: string; end: string }[]> {
  return withAdmin(kafka, async (admin) => {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const ends = await fetchTopicEnds(admin, topic);
    return ends
      .map(({ partition, high }) => ({
        partition,
        committed: committed?.partitions.find((p) => p.partition === partition)?.offset ?? '-1',
        end: high,
      }))
      .sort((a, b) => a.partition - b.partition);
  });
}

/** Polls `condition` until it holds or the deadline passes; returns whether it held. */
export async function eventually(
  condition: () => Promise<boolean> | boolean,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return condition();
}

/** A connected producer that keeps each partition in send order, as a careful event producer would. */
export async function connectedProducer(kafka: Kafka): Promise<Producer> {
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  return producer;
}

/** Publishes events keyed by account, in order, 2,000 per request. */
export async function publishEvents(
  kafka: Kafka,
  topic: string,
  events: readonly CardTransaction[],
): Promise<void> {
  const producer = await connectedProducer(kafka);
  try {
    for (let start = 0; start < events.length; start += 2_000) {
      const messages = events
        .slice(start, start + 2_000)
        .map((event) => ({ key: event.account_id, value: eventCodec.encode(event) }));
      await producer.send({ topic, messages, acks: -1 });
    }
  } finally {
    await producer.disconnect();
  }
}
