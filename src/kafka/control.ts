/**
 * The control topic: a compacted, single-partition topic of decisions that every instance reads in the same
 * order. Each reader follows it from the beginning in a consumer group of its own (nothing is committed:
 * a restarted reader reads it all again, which compaction keeps short), and knows when it has caught up
 * with what was there when it started, so an instance applies the decisions in force before it scores.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../telemetry/index.js';
import { createKafkaClient, createProducer, type KafkaSettings } from './client.js';
import { fetchTopicEnds } from './topics.js';

export interface ControlRecord {
  key: string;
  value: Buffer;
  /** Offset in the control topic: the order every reader applies records in. */
  offset: bigint;
}

export interface ControlTopic {
  /**
   * Calls `onRecord` for every record from the beginning, then for each new one as it arrives; resolves
   * once the records that were there when it was called have been handed over.
   */
  follow(onRecord: (record: ControlRecord) => void): Promise<void>;
  /** Publishes a record (acknowledged by every in-sync replica); resolves with its offset. */
  publish(key: string, value: Buffer): Promise<bigint>;
  close(): Promise<void>;
}

export function openControlTopic(kafka: KafkaSettings, logger: Logger, topic: string): ControlTopic {
  const client = createKafkaClient(kafka, logger, 'control');
  const consumer = client.consumer({
    groupId: `${kafka.clientId}-control-${randomUUID()}`,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 250,
  });
  const admin = client.admin();
  const producer = createProducer(client);
  let producerConnected: Promise<void> | undefined;
  let following = false;

  return {
    async follow(onRecord) {
      await admin.connect();
      const ends = await fetchTopicEnds(admin, topic);
      await admin.disconnect();
      const remaining = new Map(
        ends
          .filter(({ high, low }) => BigInt(high) > BigInt(low))
          .map(({ partition, high }) => [partition, BigInt(high)]),
      );
      let caughtUp: () => void = () => undefined;
      const done = new Promise<void>((resolve) => {
        caughtUp = resolve;
      });
      // Transaction markers and compacted-away records take offsets no record reports: a batch's end counts.
      const passed = (partition: number, nextOffset: bigint) => {
        const end = remaining.get(partition);
        if (end !== undefined && nextOffset >= end) remaining.delete(partition);
        if (remaining.size === 0) caughtUp();
      };
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      following = true;
      await consumer.run({
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) {
            if (message.key === null || message.value === null) continue;
            onRecord({ key: message.key.toString(), value: message.value, offset: BigInt(message.offset) });
          }
          passed(batch.partition, BigInt(batch.lastOffset()) + 1n);
        },
      });
      if (remaining.size === 0) caughtUp();
      await done;
    },
    async publish(key, value) {
      producerConnected ??= producer.connect();
      await producerConnected;
      const [written] = await producer.send({ topic, messages: [{ key, value }], acks: -1 });
      return BigInt(written?.baseOffset ?? '-1');
    },
    async close() {
      await Promise.allSettled([
        following ? consumer.disconnect() : Promise.resolve(),
        producerConnected?.then(() => producer.disconnect()),
      ]);
    },
  };
}
