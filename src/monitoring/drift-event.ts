/**
 * A drift window's report as the monitoring topic's record (schemas/monitoring-event.avsc): a
 * MonitoringEvent of kind DRIFT whose `drift` holds the window, keyed by model name and version.
 */
import { createAvroCodec, loadAvroSchema, type RecordEncoder } from '../codec/index.js';
import { packagePath } from '../config/index.js';
import type { DriftReport, DriftSeverity } from './drift.js';

export const MONITORING_EVENT_SCHEMA_PATH = packagePath('schemas/monitoring-event.avsc');

export interface MovedBinRecord {
  bin: string;
  expected_share: number;
  actual_share: number;
}

export interface FeatureDriftRecord {
  feature: string;
  psi: number;
  severity: DriftSeverity;
  missing_share: number;
  training_missing_share: number;
  moved_bins: MovedBinRecord[];
}

export interface DriftWindowRecord {
  window_start: number;
  window_end: number;
  samples: number;
  severity: DriftSeverity;
  score_psi: number;
  features: FeatureDriftRecord[];
}

/** A MonitoringEvent carrying a drift window; the other kinds' fields are null. */
export interface DriftMonitoringEvent {
  kind: 'DRIFT';
  model_name: string;
  model_version: string;
  /** The instance (client id) whose window it is. */
  instance: string;
  /** Epoch ms. */
  emitted_time: number;
  drift: DriftWindowRecord;
  ground_truth: null;
  retrain: null;
}

export function driftMonitoringEvent(
  report: DriftReport,
  instance: string,
  emittedTime: number,
): DriftMonitoringEvent {
  return {
    kind: 'DRIFT',
    model_name: report.modelName,
    model_version: report.modelVersion,
    instance,
    emitted_time: emittedTime,
    drift: {
      window_start: report.windowStart,
      window_end: report.windowEnd,
      samples: report.samples,
      severity: report.severity,
      score_psi: report.scorePsi,
      features: report.features.map((feature) => ({
        feature: feature.feature,
        psi: feature.psi,
        severity: feature.severity,
        missing_share: feature.missingShare,
        training_missing_share: feature.trainingMissingShare,
        moved_bins: feature.movedBins.map((moved) => ({
          bin: moved.label,
          expected_share: moved.expectedShare,
          actual_share: moved.actualShare,
        })),
      })),
    },
    ground_truth: null,
    retrain: null,
  };
}

/** Encodes drift events as plain Avro binary against the monitoring event schema. */
export function loadDriftEventEncoder(
  schemaPath = MONITORING_EVENT_SCHEMA_PATH,
): RecordEncoder<DriftMonitoringEvent> {
  return createAvroCodec<DriftMonitoringEvent>(loadAvroSchema(schemaPath));
}
