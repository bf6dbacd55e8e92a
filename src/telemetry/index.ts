export { observePipeline, type PipelineCounters, type PipelineObserver } from './counters.js';
export {
  type BatchPublished,
  batchPublished,
  type ChallengersScored,
  type ChampionScored,
  challengersScored,
  championScored,
  type InferenceBatch,
  inferenceBatch,
  type ModelSwapped,
  type ModelVersion,
  modelSwapped,
  type PredictionCacheLookup,
  predictionCacheLookup,
  type RecordRejected,
  recordRejected,
  type ScoredBy,
  subscribe,
} from './events.js';
export {
  createLogger,
  type DestinationStream,
  type Logger,
  type LoggerOptions,
} from './logger.js';
export { type PipelineMetrics, registerPipelineMetrics } from './metrics.js';
export { disabledTelemetry, startProcessTelemetry, type Telemetry, telemetryFrom } from './providers.js';
export { type BatchSpan, type BatchTiming, startBatchSpan } from './tracing.js';
