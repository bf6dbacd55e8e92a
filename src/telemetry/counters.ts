import {
  type BatchPublished,
  batchPublished,
  type RecordRejected,
  recordRejected,
  subscribe,
} from './events.js';
import type { Logger } from './logger.js';

/** Running totals of what the pipeline did; the seed of the metrics endpoint. */
export interface PipelineCounters {
  recordsIn: number;
  predictionsOut: number;
  rejected: number;
  rejectedByCode: Record<string, number>;
  batches: number;
}

export interface PipelineObserver {
  readonly counters: Readonly<PipelineCounters>;
  close(): void;
}

/** Counts what the pipeline delivers and logs every rejected record with where it sits in Kafka. */
export function observePipeline(logger: Logger): PipelineObserver {
  const counters: PipelineCounters = {
    recordsIn: 0,
    predictionsOut: 0,
    rejected: 0,
    rejectedByCode: {},
    batches: 0,
  };
  const unsubscribers = [
    subscribe<RecordRejected>(recordRejected, ({ topic, partition, offset, error }) => {
      logger.warn({ topic, partition, offset, code: error.code, reason: error.message }, 'record rejected');
    }),
    subscribe<BatchPublished>(batchPublished, (batch) => {
      counters.batches += 1;
      counters.recordsIn += batch.records;
      counters.predictionsOut += batch.predictions;
      for (const [code, count] of batch.rejections ?? []) {
        counters.rejected += count;
        counters.rejectedByCode[code] = (counters.rejectedByCode[code] ?? 0) + count;
      }
    }),
  ];
  return {
    counters,
    close: () => {
      for (const unsubscribe of unsubscribers) unsubscribe();
    },
  };
}
