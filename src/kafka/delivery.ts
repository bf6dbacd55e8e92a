/**
 * Delivery: publishing a partition batch's output and committing its input offsets, in the order that
 * loses nothing. At-least-once publishes the whole output (predictions, dead letters, whatever topics the
 * batch writes to) and waits for every acknowledgement, then commits. Exactly-once is in exactly-once.ts.
 * Failures of the brokers are retried with backoff, never blamed on records; a lost partition is not.
 */
import type { Kafka } from 'kafkajs';
import type { Logger } from '../telemetry/index.js';
import { createKafkaClient, createProducer, type KafkaSettings } from './client.js';
import { createExactlyOnceDelivery } from './exactly-once.js';
import type { BatchControl, BatchOutcome } from './group.js';
import { compressionOf, nextOffset, outputRequests } from './output.js';
import type { TopicRecords } from './records.js';
import { type RetryOptions, retryUntilDone } from './retry.js';

export interface DeliveryOptions {
  groupId: string;
  inputTopic: string;
  compression: 'none' | 'gzip';
  /** Output, dead letters and input offsets in one transaction per partition batch. */
  exactlyOnce: boolean;
  retry: Omit<RetryOptions, 'isFinal'>;
}

export interface DeliveredBatch {
  partition: number;
  firstOffset: string;
  /** Offset of the last record of the batch (committed as lastOffset + 1). */
  lastOffset: string;
  /** Everything the batch publishes, in the order it is to be written. */
  output: readonly TopicRecords[];
}

export interface Delivery {
  /**
   * Publishes the output and commits the offsets. `dropped`: nothing was committed and the partition is
   * to be read again; `lost`: this member no longer owns the partition.
   */
  deliver(batch: DeliveredBatch, control: BatchControl): Promise<BatchOutcome>;
  /** The partitions this member owns now; resources of the others are let go. */
  assigned(partitions: readonly number[]): Promise<void>;
  close(): Promise<void>;
}

/** Errors that mean this member no longer owns the partition: retrying cannot help. */
const LOST_OWNERSHIP = new Set([
  'REBALANCE_IN_PROGRESS',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'FENCED_INSTANCE_ID',
]);

/** kafkajs protocol errors carry the broker's error name in `type`; retries wrap them in `cause`. */
export function lostOwnership(error: unknown): boolean {
  for (let current: unknown = error; current; current = (current as { cause?: unknown }).cause) {
    const type = (current as { type?: unknown }).type;
    if (typeof type === 'string' && LOST_OWNERSHIP.has(type)) return true;
  }
  return false;
}

function createAtLeastOnceDelivery(client: Kafka, options: DeliveryOptions): Delivery {
  const producer = createProducer(client);
  let connected: Promise<void> | undefined;
  const retry = { ...options.retry, isFinal: lostOwnership };
  return {
    async deliver(batch, control) {
      connected ??= producer.connect();
      await connected;
      try {
        for (const topicMessages of outputRequests(batch.output)) {
          await retryUntilDone(
            () =>
              producer.sendBatch({
                topicMessages,
                acks: -1,
                compression: compressionOf(options.compression),
              }),
            retry,
          );
        }
        // Revoked meanwhile: the output is out, the commit is not; whoever owns the partition re-reads it.
        if (control.isStale()) return 'dropped';
        await retryUntilDone(() => control.commit(String(nextOffset(batch.lastOffset))), retry);
        return 'delivered';
      } catch (error) {
        if (lostOwnership(error)) return 'lost';
        throw error;
      }
    },
    async assigned() {},
    async close() {
      await producer.disconnect();
    },
  };
}

export function createDelivery(kafka: KafkaSettings, logger: Logger, options: DeliveryOptions): Delivery {
  const client = createKafkaClient(kafka, logger);
  return options.exactlyOnce
    ? createExactlyOnceDelivery(client, options)
    : createAtLeastOnceDelivery(client, options);
}
