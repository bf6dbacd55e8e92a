export { type CompiledBins, compileBins, UNSEEN_LABEL } from './bins.js';
export {
  createDriftWindow,
  DEFAULT_PSI_ALERT,
  DEFAULT_PSI_WARN,
  type DriftOptions,
  type DriftReport,
  type DriftSeverity,
  DriftWindow,
  type FeatureDrift,
  MOVED_BINS_REPORTED,
  type MonitoredModel,
  type MovedBin,
} from './drift.js';
export {
  type DriftMonitoringEvent,
  type DriftWindowRecord,
  driftMonitoringEvent,
  type FeatureDriftRecord,
  loadDriftEventEncoder,
  MONITORING_EVENT_SCHEMA_PATH,
  type MovedBinRecord,
} from './drift-event.js';
export { type DriftWatch, type DriftWatchOptions, watchDrift } from './drift-watch.js';
export {
  type ClassLabels,
  type ClassLabelsOf,
  type GroundTruthMonitoringEvent,
  type GroundTruthReport,
  GroundTruthTallies,
  GroundTruthTally,
  groundTruthMonitoringEvent,
  LabelClass,
  type LabelClassCode,
} from './ground-truth.js';
export { type JoinBounds, type JoinCounts, LabelJoin } from './labels.js';
export {
  createLabelJoiner,
  type GroundTruthLabel,
  LABEL_SCHEMA_PATH,
  type LabelJoiner,
  type LabelJoinerCounts,
  type LabelJoinerOptions,
} from './labels-consumer.js';
export { type MonitoringFigures, registerMonitoringMetrics } from './metrics.js';
export type { MonitoringEvent } from './monitoring-event.js';
export {
  clearReasons,
  createReasonCodes,
  type LinearExplanation,
  linearReasons,
  type OcclusionPlan,
  occlusionReasons,
  planOcclusion,
  type ReasonCodes,
  type ReasonMethod,
} from './reasons.js';
export {
  DEFAULT_MIN_LABELLED_POSITIVES,
  loadRetrainEventEncoder,
  type RetrainMonitoringEvent,
  type RetrainReason,
  type RetrainSettings,
  type RetrainSuggestion,
  RetrainWatch,
  retrainMonitoringEvent,
} from './retrain.js';
