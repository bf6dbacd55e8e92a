/**
 * Reading what a topic holds between two timestamps, for tools that look back (the experiments report, the
 * dead-letter report and replay).
 * Each partition starts at its first offset at or after `fromMs` (ListOffsets by timestamp) and is read up
 * to its end offset as of the call; records are passed on when their timestamp falls in [fromMs, toMs),
 * since CreateTime need not grow with the offset. The consumer is read_committed, in a group of its own
 * that commits nothing, so it takes no partitions from anyone and leaves no offsets behind.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin } from 'kafkajs';
import { ConfigurationError, StreamscoreError } from '../errors/index.js';
import type { Logger } from '../telemetry/index.js';
import { createKafkaClient, type KafkaSettings } from './client.js';
import type { InputRecord } from './records.js';
import { fetchTopicEnds, fetchTopicOffsetsSince } from './topics.js';

export interface TopicRange {
  topic: string;
  /** Epoch milliseconds, inclusive; undefined reads from each partition's earliest record. */
  fromMs?: number | undefined;
  /** Epoch milliseconds, exclusive; undefined reads up to the end offsets as of the call. */
  toMs?: number | undefined;
  /** Each record in range, in offset order within its partition. */
  onRecord(record: InputRecord, partition: number): void;
  /**
   * Awaited after each fetched batch's records were passed on, before the next batch is read: where a
   * caller writes what the batch gave it, reading waits for the writing.
   */
  onBatchRead?(): Promise<void>;
  /** How long reading may go without reaching a partition's end before it gives up (default 60 s). */
  stallTimeoutMs?: number;
}

const DEFAULT_STALL_TIMEOUT_MS = 60_000;

interface PartitionSpan {
  partition: number;
  start: bigint;
  end: bigint;
}

/** Reads the records of `range`; resolves with how many were passed on. */
export async function readTopicRange(
  kafka: KafkaSettings,
  logger: Logger,
  range: TopicRange,
): Promise<number> {
  const client = createKafkaClient(kafka, logger, 'range-reader');
  const spans = await partitionSpans(client.admin(), range);
  const remaining = new Map(
    spans.filter((span) => span.end > span.start).map((span) => [span.partition, span]),
  );
  if (remaining.size === 0) return 0;

  const fromMs = range.fromMs ?? Number.NEGATIVE_INFINITY;
  const toMs = range.toMs ?? Number.POSITIVE_INFINITY;
  // The next offset to pass on, per partition: a batch fetched before the seeks took effect may come again.
  const next = new Map(spans.map((span) => [span.partition, span.start]));
  let passed = 0;
  let progressAt = Date.now();
  let finish: () => void = () => undefined;
  let fail: (error: unknown) => void = () => undefined;
  const finished = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });

  const consumer = client.consumer({
    groupId: `streamscore-range-${randomUUID()}`,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 500,
  });
  // Tracked from the batch's last offset, not its records: transaction markers take offsets of their own.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    progressAt = Date.now();
    const span = remaining.get(payload.partition);
    if (span && BigInt(payload.lastOffset) + 1n >= span.end) remaining.delete(payload.partition);
    if (remaining.size === 0) finish();
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) fail(payload.error);
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [range.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const span = remaining.get(batch.partition);
        if (!span) return;
        for (const message of batch.messages) {
          const offset = BigInt(message.offset);
          if (offset < next.get(batch.partition)! || offset >= span.end) continue;
          next.set(batch.partition, offset + 1n);
          const timestamp = Number(message.timestamp);
          if (timestamp < fromMs || timestamp >= toMs) continue;
          range.onRecord(message, batch.partition);
          passed += 1;
        }
        // The caller's failure ends the read: kafkajs would retry the batch, and pass its records on again.
        await range.onBatchRead?.().catch((error: unknown) => {
          remaining.clear();
          fail(error);
        });
      },
    });
    for (const { partition, start } of spans) {
      consumer.seek({ topic: range.topic, partition, offset: start.toString() });
    }
    await waitUntilFinished(finished, () => progressAt, range, remaining);
  } finally {
    await consumer.disconnect();
  }
  return passed;
}

async function partitionSpans(admin: Admin, range: TopicRange): Promise<PartitionSpan[]> {
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(range.topic)) {
      throw new ConfigurationError('TOPIC_MISSING', `topic ${range.topic} does not exist`);
    }
    const ends = await fetchTopicEnds(admin, range.topic);
    const starts =
      range.fromMs === undefined
        ? ends.map(({ partition, low }) => ({ partition, offset: low }))
        : await fetchTopicOffsetsSince(admin, range.topic, range.fromMs);
    return ends.map(({ partition, high }) => ({
      partition,
      start: BigInt(starts.find((start) => start.partition === partition)?.offset ?? high),
      end: BigInt(high),
    }));
  } finally {
    await admin.disconnect();
  }
}

async function waitUntilFinished(
  finished: Promise<void>,
  progressAt: () => number,
  range: TopicRange,
  remaining: ReadonlyMap<number, PartitionSpan>,
): Promise<void> {
  const stallTimeoutMs = range.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  let done = false;
  const settled = finished.then(() => {
    done = true;
  });
  while (!done) {
    await Promise.race([settled, sleep(1_000)]);
    if (!done && Date.now() - progressAt() > stallTimeoutMs) {
      throw new StreamscoreError(
        'KAFKA_UNAVAILABLE',
        `reading ${range.topic} made no progress for ${stallTimeoutMs} ms before reaching the end of partitions ` +
          `${[...remaining.keys()].join(', ')} (broker unreachable, or an open transaction holding back the last stable offset)`,
      );
    }
  }
}
