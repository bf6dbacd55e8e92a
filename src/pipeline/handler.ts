/**
 * What happens to one partition batch, end to end: scored by the pipeline, delivered (published and
 * committed), announced to the observers. This is the seam where a batch is traced and timed; the stages
 * below it only report instants.
 */
import type { Tracer } from '@opentelemetry/api';
import { StreamscoreError } from '../errors/index.js';
import {
  type BatchLoop,
  type ConsumedBatch,
  type Delivery,
  isProgrammingError,
  type RetryOptions,
  retryUntilDone,
} from '../kafka/index.js';
import { type BatchPublished, type BatchSpan, batchPublished, startBatchSpan } from '../telemetry/index.js';
import type { BatchOutput, ScoringPipeline } from './scoring.js';

export interface BatchHandlerOptions {
  pipeline: ScoringPipeline;
  delivery: Delivery;
  tracer: Tracer;
  groupId: string;
  outputTopic: string;
  retry: Omit<RetryOptions, 'isFinal'>;
  /** After a batch's output is acknowledged and its offsets committed, or their commit sent (delivery.ts). */
  onDelivered(batch: ConsumedBatch, output: BatchOutput): void;
  /** A mistake in the code reached the batch: the process must stop, its offsets unmoved. */
  onProgrammingError(error: Error): void;
}

const isInfrastructureFailure = (error: unknown) =>
  error instanceof StreamscoreError && error.disposition === 'infrastructure';

function announce(batch: ConsumedBatch, output: BatchOutput, publishedAt: number): void {
  if (!batchPublished.hasSubscribers) return;
  batchPublished.publish({
    topic: batch.topic,
    partition: batch.partition,
    records: batch.records.length,
    predictions: output.predictions,
    rejections: output.rejections,
    lastOffset: batch.lastOffset,
    highWatermark: batch.highWatermark,
    lastTimestampMs: Number(batch.records.at(-1)?.timestamp),
    fetchedAt: batch.fetchedAt,
    publishedAt,
  } satisfies BatchPublished);
}

export function createBatchHandler(options: BatchHandlerOptions): BatchLoop['handleBatch'] {
  const { pipeline, delivery, retry } = options;
  return async (batch, control) => {
    let span: BatchSpan | undefined;
    try {
      const batchSpan = startBatchSpan(
        options.tracer,
        { ...batch, groupId: options.groupId, outputTopic: options.outputTopic },
        batch.fetchedAt,
      );
      span = batchSpan;
      const output = await retryUntilDone(() => pipeline.scoreBatch(batch, batchSpan.traceparentFor), {
        ...retry,
        isFinal: (error) => !isInfrastructureFailure(error),
      });
      const publishStartedAt = performance.now();
      const outcome = await delivery.deliver(
        {
          partition: batch.partition,
          firstOffset: batch.firstOffset,
          lastOffset: batch.lastOffset,
          output: output.output,
        },
        control,
      );
      if (outcome !== 'delivered') {
        batchSpan.fail(new Error(`batch ${outcome} uncommitted`));
        return outcome;
      }
      const publishedAt = performance.now();
      announce(batch, output, publishedAt);
      batchSpan.end(
        { fetchedAt: batch.fetchedAt, ...output.timing, publishStartedAt, publishedAt },
        output.model,
      );
      options.onDelivered(batch, output);
      return outcome;
    } catch (error) {
      span?.fail(error);
      if (isProgrammingError(error)) options.onProgrammingError(error as Error);
      throw error;
    }
  };
}
