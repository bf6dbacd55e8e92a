/**
 * The consumer loop. Offsets are ours to move: kafkajs's auto-commit and auto-resolve are off. The handler
 * publishes the batch's output and commits its offsets (see delivery.ts); only when it returns does the
 * loop resolve the batch and move on. When it throws, the batch is not resolved and kafkajs fetches it
 * again; a crash re-delivers, from the committed offsets, at most the batches that were in flight.
 */
import type { Consumer, KafkaMessage } from 'kafkajs';

export interface ConsumedBatch {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
  lastOffset: string;
  /** The partition's end offset at fetch time, for lag. */
  highWatermark: string;
  fetchedAt: number;
}

/** Tells the loop when the work behind it is too deep to fetch more, and when it has drained enough. */
export interface Backpressure {
  saturated(): boolean;
  relieved(): boolean;
  onChange?(paused: boolean): void;
}

export interface BatchControl {
  /** True once the partition was revoked while the batch was in flight. */
  isStale(): boolean;
  /**
   * Commits the batch's partition up to `offset` (the next offset to read). It goes through the batch's
   * own commit, which still works while the consumer is stopping; consumer.commitOffsets silently does
   * nothing then, and a SIGTERM would re-deliver the batch in flight.
   */
  commit(offset: string): Promise<void>;
}

export interface ConsumeOptions {
  topic: string;
  fromBeginning: boolean;
  partitionsConsumedConcurrently: number;
  backpressure?: Backpressure;
  /** Publishes and commits the batch. */
  handleBatch(batch: ConsumedBatch, control: BatchControl): Promise<void>;
}

export async function consumeBatches(consumer: Consumer, options: ConsumeOptions): Promise<void> {
  const { backpressure } = options;
  let paused = false;
  // Pausing stops fetching for the topic while the batches already fetched finish; the batch whose
  // completion brings the queue below the low mark resumes it.
  const applyBackpressure = () => {
    if (!backpressure) return;
    if (!paused && backpressure.saturated()) {
      paused = true;
      consumer.pause([{ topic: options.topic }]);
      backpressure.onChange?.(true);
    } else if (paused && backpressure.relieved()) {
      paused = false;
      consumer.resume([{ topic: options.topic }]);
      backpressure.onChange?.(false);
    }
  };

  await consumer.subscribe({ topics: [options.topic], fromBeginning: options.fromBeginning });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary }) => {
      if (batch.isEmpty() || !isRunning() || isStale()) return;
      const consumed: ConsumedBatch = {
        topic: batch.topic,
        partition: batch.partition,
        messages: batch.messages,
        // Past the last message: control records of transactions end a batch too.
        lastOffset: batch.lastOffset(),
        highWatermark: batch.highWatermark,
        fetchedAt: performance.now(),
      };
      const control: BatchControl = {
        isStale,
        commit: (offset) =>
          commitOffsetsIfNecessary({
            topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset }] }],
          }),
      };
      const handled = options.handleBatch(consumed, control);
      applyBackpressure();
      try {
        await handled;
      } finally {
        applyBackpressure();
      }
      resolveOffset(batch.lastOffset());
      await heartbeat();
    },
  });
}
