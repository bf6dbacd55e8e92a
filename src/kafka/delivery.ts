/**
 * Delivery: publishing a partition batch's output and committing its input offsets, in the order that
 * loses nothing. At-least-once publishes predictions and dead letters in one request, waits for every
 * acknowledgement, then commits. Exactly-once puts the output and the offsets in one transaction of a
 * producer that belongs to the input partition (transactional id = group, topic, partition), so the next
 * owner of the partition, in this process or another, fences a zombie before it can commit anything.
 * Failures of the brokers are retried with backoff, never blamed on records; a lost partition is not.
 */
import { CompressionTypes, type Kafka, type Message, type Producer } from 'kafkajs';
import { type BatchPublished, batchPublished } from '../telemetry/index.js';
import { createProducer } from './client.js';
import type { BatchControl } from './consume.js';
import { type RetryOptions, retryUntilDone } from './retry.js';

export interface DeliveryOptions {
  inputTopic: string;
  outputTopic: string;
  deadLetterTopic: string;
  groupId: string;
  compression: 'none' | 'gzip';
  retry: Omit<RetryOptions, 'isFinal'>;
}

export interface DeliveredBatch {
  topic: string;
  partition: number;
  /** Offset of the last record of the batch (committed as lastOffset + 1). */
  lastOffset: string;
  highWatermark?: string;
  /** Kafka timestamp (epoch ms, as kafkajs gives it) of the last record. */
  lastTimestamp?: string | undefined;
  records: number;
  fetchedAt: number;
  predictions: Message[];
  deadLetters: Message[];
}

export interface Delivery {
  /** Resolves once the output is acknowledged and the offsets committed; throws when the partition is lost. */
  deliver(batch: DeliveredBatch, control: BatchControl): Promise<void>;
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
  'INVALID_PRODUCER_EPOCH',
  'PRODUCER_FENCED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
]);

/** kafkajs protocol errors carry the broker's error name in `type`; retries wrap them in `cause`. */
export function lostOwnership(error: unknown): boolean {
  for (let current: unknown = error; current; current = (current as { cause?: unknown }).cause) {
    const type = (current as { type?: unknown }).type;
    if (typeof type === 'string' && LOST_OWNERSHIP.has(type)) return true;
  }
  return false;
}

function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}

interface TopicMessages {
  topic: string;
  messages: Message[];
}

// Below the brokers' default message.max.bytes (1 MiB) for one produce request, with room for framing.
const MAX_REQUEST_BYTES = 512 * 1024;
const RECORD_OVERHEAD_BYTES = 64;

function approximateSize(message: Message): number {
  let size = RECORD_OVERHEAD_BYTES + (message.key?.length ?? 0) + (message.value?.length ?? 0);
  for (const [name, value] of Object.entries(message.headers ?? {}))
    size += name.length + String(value ?? '').length;
  return size;
}

/**
 * The batch's output in requests small enough for the brokers: a fetch of 1 MiB of input can become more
 * than 1 MiB of output (dead letters add headers), and one oversized request would fail forever.
 * Requests go out one after another, so per-partition order holds.
 */
function outputRequests(options: DeliveryOptions, batch: DeliveredBatch): TopicMessages[][] {
  const requests: TopicMessages[][] = [];
  let current: TopicMessages[] = [];
  let bytes = 0;
  for (const { topic, messages } of [
    { topic: options.outputTopic, messages: batch.predictions },
    { topic: options.deadLetterTopic, messages: batch.deadLetters },
  ]) {
    let entry: TopicMessages | undefined;
    for (const message of messages) {
      const size = approximateSize(message);
      if (bytes + size > MAX_REQUEST_BYTES && bytes > 0) {
        requests.push(current);
        current = [];
        entry = undefined;
        bytes = 0;
      }
      if (!entry) {
        entry = { topic, messages: [] };
        current.push(entry);
      }
      entry.messages.push(message);
      bytes += size;
    }
  }
  if (current.length > 0) requests.push(current);
  return requests;
}

function announce(batch: DeliveredBatch): void {
  if (!batchPublished.hasSubscribers) return;
  batchPublished.publish({
    topic: batch.topic,
    partition: batch.partition,
    records: batch.records,
    predictions: batch.predictions.length,
    rejected: batch.deadLetters.length,
    lastOffset: batch.lastOffset,
    highWatermark: batch.highWatermark,
    lastTimestampMs: batch.lastTimestamp === undefined ? undefined : Number(batch.lastTimestamp),
    fetchedAt: batch.fetchedAt,
    publishedAt: performance.now(),
  } satisfies BatchPublished);
}

const compressionOf = (options: DeliveryOptions) =>
  options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;

export function createAtLeastOnceDelivery(kafka: Kafka, options: DeliveryOptions): Delivery {
  const producer = createProducer(kafka);
  let connected: Promise<void> | undefined;
  const retry = { ...options.retry, isFinal: lostOwnership };
  return {
    async deliver(batch, control) {
      connected ??= producer.connect();
      await connected;
      for (const topicMessages of outputRequests(options, batch)) {
        await retryUntilDone(
          () => producer.sendBatch({ topicMessages, acks: -1, compression: compressionOf(options) }),
          retry,
        );
      }
      announce(batch);
      // A partition revoked meanwhile belongs to another member, which re-reads it from the last commit.
      if (control.isStale()) return;
      await retryUntilDone(() => control.commit(nextOffset(batch.lastOffset)), retry);
    },
    async assigned() {},
    async close() {
      await producer.disconnect();
    },
  };
}

export function createExactlyOnceDelivery(kafka: Kafka, options: DeliveryOptions): Delivery {
  const producers = new Map<number, Promise<Producer>>();

  const producerFor = (partition: number): Promise<Producer> => {
    let producer = producers.get(partition);
    if (!producer) {
      const created = createProducer(kafka, `${options.groupId}.${options.inputTopic}.${partition}`);
      producer = created.connect().then(() => created);
      producers.set(partition, producer);
    }
    return producer;
  };

  // After any failure the producer's transaction state is unknown: a fresh one re-initialises it, which
  // also aborts whatever transaction the old one left open.
  const discard = async (partition: number) => {
    const producer = producers.get(partition);
    producers.delete(partition);
    await producer?.then((p) => p.disconnect()).catch(() => undefined);
  };

  return {
    async deliver(batch, control) {
      const requests = outputRequests(options, batch);
      const offsets = {
        consumerGroupId: options.groupId,
        topics: [
          {
            topic: batch.topic,
            partitions: [{ partition: batch.partition, offset: nextOffset(batch.lastOffset) }],
          },
        ],
      };
      const committed = await retryUntilDone(
        async () => {
          const producer = await producerFor(batch.partition);
          const transaction = await producer.transaction();
          try {
            for (const topicMessages of requests) {
              await transaction.sendBatch({ topicMessages, acks: -1, compression: compressionOf(options) });
            }
            // Revoked meanwhile: abort, so neither the output nor the offsets become visible.
            if (control.isStale()) {
              await transaction.abort();
              return false;
            }
            await transaction.sendOffsets(offsets);
            await transaction.commit();
            return true;
          } catch (error) {
            await discard(batch.partition);
            throw error;
          }
        },
        { ...options.retry, isFinal: lostOwnership },
      );
      if (committed) announce(batch);
    },
    async assigned(partitions) {
      const owned = new Set(partitions);
      await Promise.all([...producers.keys()].filter((partition) => !owned.has(partition)).map(discard));
    },
    async close() {
      await Promise.all([...producers.keys()].map(discard));
    },
  };
}
