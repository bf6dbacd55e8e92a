export { type AlertOptions, type BatchAlerts, createBatchAlerts } from './alerts.js';
export { type BatchHandlerOptions, createBatchHandler } from './handler.js';
export {
  type BatchOutput,
  createScoringPipeline,
  type PartitionBatch,
  type ScoringPipeline,
  type ScoringPipelineOptions,
  type StageTiming,
  type TraceparentFor,
} from './scoring.js';
