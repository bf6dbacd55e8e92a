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

/** Counts what the pipeline publishes and logs every rejected record with where it sits in Kafka. */
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
      counters.rejected += 1;
      counters.rejectedByCode[error.code] = (counters.rejectedByCode[error.code] ?? 0) + 1;
      logger.warn({ topic, partition, offset, code: error.code, reason: error.message }, 'record rejected');
    }),
    subscribe<BatchPublished>(batchPublished, (batch) => {
      counters.batches += 1;
      counters.recordsIn += batch.records;
      counters.predictionsOut += batch.predictions;
    }),
  ];
  return {
    counters,
    close: () => {
      for (const unsubscribe of unsubscribers) unsubscribe();
    },
  };
}
