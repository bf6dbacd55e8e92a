import {
  type BatchPublished,
  batchPublished,
  type RecordRejected,
  recordRejected,
  subscribe,
} from './events.js';
import type { Logger } from './logger.js';
import { createRejectionLog } from './rejection-log.js';

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

/**
 * Counts what the pipeline delivers and logs rejected records with where they sit in Kafka (a storm of
 * them in part: rejection-log.ts).
 */
export function observePipeline(logger: Logger): PipelineObserver {
  const counters: PipelineCounters = {
    recordsIn: 0,
    predictionsOut: 0,
    rejected: 0,
    rejectedByCode: {},
    batches: 0,
  };
  const rejections = createRejectionLog(logger);
  const unsubscribers = [
    subscribe<RecordRejected>(recordRejected, (rejection) => rejections.log(rejection)),
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
      rejections.close();
    },
  };
}
