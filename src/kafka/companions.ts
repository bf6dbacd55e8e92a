/**
 * Kafka for the companion commands (produce, tail, demo): publishing records and following a topic, with
 * clients built like the service's.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../telemetry/index.js';
import { createKafkaClient, createProducer, type KafkaSettings } from './client.js';
import { outputRequests } from './output.js';
import type { InputRecord, OutputRecord } from './records.js';

export interface Publisher {
  /**
   * Resolves once every record is acknowledged by all in-sync replicas. Many records go out in several
   * requests, one after another (as the service's output does), each small enough for the brokers.
   */
  publish(topic: string, records: OutputRecord[]): Promise<void>;
  disconnect(): Promise<void>;
}

export async function connectPublisher(
  kafka: KafkaSettings,
  logger: Logger,
  role: string,
): Promise<Publisher> {
  const producer = createProducer(createKafkaClient(kafka, logger, role));
  await producer.connect();
  return {
    publish: async (topic, records) => {
      for (const topicMessages of outputRequests([{ topic, records }])) {
        await producer.sendBatch({ topicMessages, acks: -1 });
      }
    },
    disconnect: () => producer.disconnect(),
  };
}

export interface FollowOptions {
  topic: string;
  fromBeginning: boolean;
  onRecord(record: InputRecord, partition: number): void;
  /** Runs before a batch's records are handed over (to fetch writer schemas, say). */
  beforeBatch?(records: readonly InputRecord[]): Promise<void> | undefined;
}

export interface Follower {
  disconnect(): Promise<void>;
}

/** Reads a topic in a consumer group of its own, so following it never takes partitions from anyone. */
export async function followTopic(
  kafka: KafkaSettings,
  logger: Logger,
  options: FollowOptions,
): Promise<Follower> {
  const consumer = createKafkaClient(kafka, logger, 'tail').consumer({
    groupId: `streamscore-tail-${randomUUID()}`,
    allowAutoTopicCreation: false,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [options.topic], fromBeginning: options.fromBeginning });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const preparing = options.beforeBatch?.(batch.messages);
      if (preparing) await preparing;
      for (const message of batch.messages) options.onRecord(message, batch.partition);
    },
  });
  return { disconnect: () => consumer.disconnect() };
}
