/**
 * Delivery: publishing a partition batch's output and committing its input offsets, in the order that
 * loses nothing. At-least-once publishes the whole output (predictions, dead letters, whatever topics the
 * batch writes to) and waits for every acknowledgement, then commits. Exactly-once is in exactly-once.ts.
 * Failures of the brokers are retried with backoff, never blamed on records; a lost partition is not.
 *
 * At-least-once does not hold the consumer loop for the commit: kafkajs fetches again only once every
 * batch of the last fetch is handled, so a commit awaited there is a round trip added to every event's
 * latency. The commit is sent while the batch's handler still runs (so it carries the generation the
 * batch was fetched in) and acknowledged while the partition's next batch is fetched and scored; that
 * batch publishes only once it is. A crash or a rebalance therefore still re-delivers at most one batch
 * per partition: the one whose output is out and whose commit is not.
 */
import type { Kafka } from 'kafkajs';
import type { Logger } from '../telemetry/index.js';
import { createKafkaClient, createProducer, type KafkaSettings } from './client.js';
import { createExactlyOnceDelivery } from './exactly-once.js';
import type { BatchControl, BatchOutcome } from './group.js';
import { compressionOf, nextOffset } from './output.js';
import type { TopicRecords } from './records.js';
import { isProgrammingError, type RetryOptions, retryUntilDone } from './retry.js';
import { createSharedSends } from './shared-sends.js';

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
  /** Waits for the commits still being acknowledged: before leaving the group, so a stop re-delivers nothing. */
  settle(): Promise<void>;
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

/** How a commit sent behind the batch that asked for it ended; `failed` is retried by the next batch. */
type CommitResult = { ended: 'committed' | 'lost' } | { ended: 'failed'; offset: string; error: unknown };

function createAtLeastOnceDelivery(client: Kafka, options: DeliveryOptions): Delivery {
  const producer = createProducer(client);
  let connected: Promise<void> | undefined;
  const retry = { ...options.retry, isFinal: lostOwnership };
  const compression = compressionOf(options.compression);
  const sends = createSharedSends(async (topicMessages) => {
    await producer.sendBatch({ topicMessages, acks: -1, compression });
  });
  // Each partition's latest commit, until its next batch is ready to publish. Only a handler of the
  // generation that fetched the batch commits for it; a join empties this.
  const commits = new Map<number, Promise<CommitResult>>();

  const sendCommit = (control: BatchControl, offset: string): Promise<CommitResult> =>
    control.commit(offset).then(
      (): CommitResult => ({ ended: 'committed' }),
      (error: unknown): CommitResult =>
        lostOwnership(error) ? { ended: 'lost' } : { ended: 'failed', offset, error },
    );

  /** The partition's previous commit, acknowledged (retried here if it failed): false if the partition is lost. */
  const previousCommitted = async (partition: number, control: BatchControl): Promise<boolean> => {
    const previous = commits.get(partition);
    if (!previous) return true;
    commits.delete(partition);
    const result = await previous;
    if (result.ended === 'failed') {
      if (isProgrammingError(result.error)) throw result.error;
      await retryUntilDone(() => control.commit(result.offset), retry);
      return true;
    }
    return result.ended === 'committed';
  };

  return {
    async deliver(batch, control) {
      connected ??= producer.connect();
      await connected;
      try {
        if (!(await previousCommitted(batch.partition, control))) return 'lost';
        await retryUntilDone(() => sends.send(batch.output), retry);
        // Revoked meanwhile: the output is out, the commit is not; whoever owns the partition re-reads it.
        if (control.isStale()) return 'dropped';
        const offset = String(nextOffset(batch.lastOffset));
        // Stopping: the member leaves the group once this batch is handled, so its commit is waited for.
        if (options.retry.signal.aborted) {
          await retryUntilDone(() => control.commit(offset), retry);
          return 'delivered';
        }
        commits.set(batch.partition, sendCommit(control, offset));
        return 'delivered';
      } catch (error) {
        if (lostOwnership(error)) return 'lost';
        throw error;
      }
    },
    async assigned() {
      commits.clear();
    },
    async settle() {
      await Promise.all(commits.values());
    },
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
