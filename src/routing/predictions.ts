/**
 * Turns scores into prediction records: the decision against the manifest's threshold, the model's
 * identity, and the timing a downstream alerting system needs to judge freshness.
 */
import type { ModelManifest } from '../models/index.js';

export interface Prediction {
  event_id: string;
  model_name: string;
  model_version: string;
  score: number;
  label: string;
  threshold: number;
  variant: string;
  event_time: number;
  scored_time: number;
  latency_ms: number;
}

export interface ScoredEvent {
  event_id: string;
  event_time: number;
}

export interface PredictionContext {
  manifest: Pick<ModelManifest, 'name' | 'version' | 'threshold' | 'labels'>;
  variant: string;
  /** performance.now() when the batch was fetched. */
  fetchedAt: number;
  /** performance.now() and wall-clock milliseconds when the scores were ready. */
  scoredAt: number;
  scoredTime: number;
}

/** A prediction to fill in with writePrediction; its fields in the schema's order, as avsc writes them. */
export function blankPrediction(): Prediction {
  return {
    event_id: '',
    model_name: '',
    model_version: '',
    score: 0,
    label: '',
    threshold: 0,
    variant: '',
    event_time: 0,
    scored_time: 0,
    latency_ms: 0,
  };
}

/**
 * Writes the prediction for `event` into `prediction` and returns it. A batch fills one prediction for
 * each of its events in turn and encodes it at once, so the output path makes no object per record.
 */
export function writePrediction(
  prediction: Prediction,
  event: ScoredEvent,
  score: number,
  context: PredictionContext,
): Prediction {
  const { manifest } = context;
  prediction.event_id = event.event_id;
  prediction.model_name = manifest.name;
  prediction.model_version = manifest.version;
  prediction.score = score;
  prediction.label = score >= manifest.threshold ? manifest.labels.positive : manifest.labels.negative;
  prediction.threshold = manifest.threshold;
  prediction.variant = context.variant;
  prediction.event_time = event.event_time;
  prediction.scored_time = context.scoredTime;
  prediction.latency_ms = context.scoredAt - context.fetchedAt;
  return prediction;
}

/** A prediction of its own, for callers that keep it. */
export const toPrediction = (event: ScoredEvent, score: number, context: PredictionContext): Prediction =>
  writePrediction(blankPrediction(), event, score, context);
