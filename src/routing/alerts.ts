/**
 * Alert records (schemas/alert.avsc): a prediction whose score reached the alert threshold, with its reason
 * codes. Built from the batch's typed arrays straight into Avro bytes, as comparisons are: one scratch
 * record, and one scratch reason per reason code, rewritten for every alert and encoded at once.
 */
import { type AvroCodec, createAvroCodec, loadAvroSchema, type RecordEncoder } from '../codec/index.js';
import { packagePath } from '../config/index.js';
import type { FeatureRows } from '../features/index.js';
import type { ModelManifest } from '../models/index.js';
import type { ReasonCodes, ReasonMethod } from '../monitoring/reasons.js';
import type { ScoredEvent } from './predictions.js';

export interface AlertReason {
  feature: string;
  value: number;
  contribution: number;
}

/** An alert record as avsc encodes and decodes it (timestamps as epoch milliseconds). */
export interface Alert {
  event_id: string;
  model_name: string;
  model_version: string;
  variant: string;
  score: number;
  threshold: number;
  label: string;
  event_time: number;
  scored_time: number;
  method: ReasonMethod;
  reasons: AlertReason[];
}

/** What an alert reads of a manifest; a whole ModelManifest will do. */
export type AlertedManifest = Pick<ModelManifest, 'name' | 'version' | 'threshold' | 'labels' | 'features'>;

/** One model's predictions of a batch, as the alerts of its rows share them. */
export interface AlertSource {
  manifest: AlertedManifest;
  variant: string;
  /** The threshold a score must reach: the manifest's alertThreshold, else its decision threshold. */
  alertThreshold: number;
  /** Wall-clock epoch milliseconds of the predictions. */
  scoredTime: number;
  /** The rows the model scored (manifest.features.length each): a reason's value is read here. */
  features: FeatureRows;
  /** By row. */
  scores: Float32Array;
}

export interface AlertEncoder {
  /**
   * The alert of row `row` of `source`, whose event is `event`: its prediction's score and label (decided
   * against the manifest's threshold, as the prediction's is), and `reasons`' features with the values the
   * model saw.
   */
  encodeAlert(source: AlertSource, row: number, event: ScoredEvent, reasons: ReasonCodes): Buffer;
}

export const ALERT_SCHEMA_PATH = packagePath('schemas/alert.avsc');

export function loadAlertCodec(schemaPath = ALERT_SCHEMA_PATH): AvroCodec<Alert> {
  return createAvroCodec<Alert>(loadAvroSchema(schemaPath));
}

export function createAlertEncoder(codec: RecordEncoder<Alert> = loadAlertCodec()): AlertEncoder {
  // Rewritten for every alert and encoded at once: avsc copies it into the alert's bytes.
  const scratch: Alert = {
    event_id: '',
    model_name: '',
    model_version: '',
    variant: '',
    score: 0,
    threshold: 0,
    label: '',
    event_time: 0,
    scored_time: 0,
    method: 'NONE',
    reasons: [],
  };
  // Grows to the most reasons an alert has had; `scratch.reasons` lends the first `count` of them.
  const reasonPool: AlertReason[] = [];

  return {
    encodeAlert(source, row, event, reasons) {
      const { manifest } = source;
      const width = manifest.features.length;
      const score = source.scores[row]!;
      scratch.event_id = event.event_id;
      scratch.model_name = manifest.name;
      scratch.model_version = manifest.version;
      scratch.variant = source.variant;
      scratch.score = score;
      scratch.threshold = source.alertThreshold;
      scratch.label = score >= manifest.threshold ? manifest.labels.positive : manifest.labels.negative;
      scratch.event_time = event.event_time;
      scratch.scored_time = source.scoredTime;
      scratch.method = reasons.method;
      while (reasonPool.length < reasons.count) reasonPool.push({ feature: '', value: 0, contribution: 0 });
      scratch.reasons.length = reasons.count;
      for (let index = 0; index < reasons.count; index++) {
        const feature = reasons.features[index]!;
        const reason = reasonPool[index]!;
        reason.feature = manifest.features[feature]!.name;
        reason.value = source.features[row * width + feature]!;
        reason.contribution = reasons.contributions[index]!;
        scratch.reasons[index] = reason;
      }
      return codec.encode(scratch);
    },
  };
}
