/**
 * Following every partition of a topic from a point in time, for state rebuilt from Kafka rather than
 * kept on disk (the ground-truth join). Each partition starts at its first record at or after `fromMs`
 * (ListOffsets by timestamp) and is followed from there as records arrive. The consumer is in a group of
 * its own, so it takes no partitions from anyone; it commits where it is only so that a consumer kafkajs
 * restarts by itself resumes there, and the group is deleted when following stops: the next follower
 * starts from a time again. `caughtUp` says when the records that were in the topic at the start have been
 * handed over, so a reader knows when its state is whole.
 */
import { randomUUID } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { ConfigurationError, StreamscoreError } from '../errors/index.js';
import type { Logger } from '../telemetry/index.js';
import { createKafkaClient, type KafkaSettings } from './client.js';
import type { InputRecord } from './records.js';
import { fetchTopicEnds, fetchTopicOffsetsSince } from './topics.js';

export interface FollowSinceOptions {
  topic: string;
  /** Epoch milliseconds: each partition starts at its first record whose timestamp is at or after it. */
  fromMs: number;
  /** What the follower is for, in its client id and group id. */
  role: string;
  /**
   * One partition's new records of a batch, in offset order. Each record is handed over once: a batch
   * fetched again (after a throw, a seek or a restart) passes on only what follows the last one accepted,
   * and a batch counts as accepted once this resolves. A throw has the batch fetched again.
   */
  onRecords(records: readonly InputRecord[], partition: number): Promise<void> | undefined;
  /** kafkajs crashed the consumer; `restarting` when it restarts it by itself. */
  onCrash?(error: Error, restarting: boolean): void;
}

export interface SinceFollower {
  /**
   * Resolves once the records that were in the topic when following started have been handed over;
   * rejects if following stops first (disconnected, or a crash kafkajs does not restart from).
   */
  readonly caughtUp: Promise<void>;
  disconnect(): Promise<void>;
}

interface PartitionStart {
  partition: number;
  start: bigint;
  end: bigint;
}

export async function followTopicSince(
  kafka: KafkaSettings,
  logger: Logger,
  options: FollowSinceOptions,
): Promise<SinceFollower> {
  const { topic, role } = options;
  const client = createKafkaClient(kafka, logger, role);
  const groupId = `${kafka.clientId}-${role}-${randomUUID()}`;
  const admin = client.admin();
  await admin.connect();
  let starts: PartitionStart[];
  try {
    starts = await partitionStarts(admin, topic, options.fromMs);
  } catch (error) {
    await admin.disconnect();
    throw error;
  }

  // The next offset to hand over, per partition; a partition added later starts at its beginning.
  const next = new Map(starts.map(({ partition, start }) => [partition, start]));
  const remaining = new Map(
    starts.filter(({ start, end }) => end > start).map(({ partition, end }) => [partition, end]),
  );
  let settle: (error?: Error) => void = () => undefined;
  const caughtUp = new Promise<void>((resolve, reject) => {
    settle = (error) => (error ? reject(error) : resolve());
  });
  // Awaiting it is the caller's choice; a rejection nobody awaits is no crash.
  caughtUp.catch(() => undefined);
  if (remaining.size === 0) settle();

  let leaving = false;
  const consumer = client.consumer({
    groupId,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 500,
    retry: { restartOnFailure: async () => !leaving },
  });
  // From the batch's last offset, not its records: transaction markers take offsets of their own, and
  // kafkajs reports a batch of nothing but markers here too.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const end = remaining.get(payload.partition);
    if (end === undefined || BigInt(payload.lastOffset) + 1n < end) return;
    remaining.delete(payload.partition);
    if (remaining.size === 0) settle();
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (leaving) return;
    options.onCrash?.(payload.error, payload.restart);
    if (!payload.restart) {
      settle(
        new StreamscoreError('KAFKA_UNAVAILABLE', `following ${topic} stopped: ${payload.error.message}`, {
          cause: payload.error,
        }),
      );
    }
  });

  const disconnect = async () => {
    leaving = true;
    settle(new StreamscoreError('SHUTTING_DOWN', `stopped following ${topic} before catching up`));
    await consumer.disconnect();
    try {
      await admin.deleteGroups([groupId]);
    } catch (error) {
      logger.debug(
        { err: error, groupId },
        'could not delete a follower group; its offsets expire by themselves',
      );
    }
    await admin.disconnect();
  };

  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const { messages } = batch;
        const from = next.get(batch.partition) ?? 0n;
        let first = 0;
        while (first < messages.length && BigInt(messages[first]!.offset) < from) first += 1;
        if (first === messages.length) return;
        const handing = options.onRecords(first === 0 ? messages : messages.slice(first), batch.partition);
        if (handing) await handing;
        next.set(batch.partition, BigInt(messages.at(-1)!.offset) + 1n);
      },
    });
    // A fetch that started before these seeks took effect comes from the beginning: `next` skips it.
    for (const { partition, start } of starts) {
      consumer.seek({ topic, partition, offset: start.toString() });
    }
  } catch (error) {
    await disconnect();
    throw error;
  }
  return { caughtUp, disconnect };
}

async function partitionStarts(admin: Admin, topic: string, fromMs: number): Promise<PartitionStart[]> {
  if (!(await admin.listTopics()).includes(topic)) {
    throw new ConfigurationError('TOPIC_MISSING', `topic ${topic} does not exist`);
  }
  const ends = await fetchTopicEnds(admin, topic);
  const starts = await fetchTopicOffsetsSince(admin, topic, fromMs);
  return ends.map(({ partition, high }) => ({
    partition,
    start: BigInt(starts.find((start) => start.partition === partition)?.offset ?? high),
    end: BigInt(high),
  }));
}
