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

export function toPrediction(event: ScoredEvent, score: number, context: PredictionContext): Prediction {
  const { manifest } = context;
  return {
    event_id: event.event_id,
    model_name: manifest.name,
    model_version: manifest.version,
    score,
    label: score >= manifest.threshold ? manifest.labels.positive : manifest.labels.negative,
    threshold: manifest.threshold,
    variant: context.variant,
    event_time: event.event_time,
    scored_time: context.scoredTime,
    latency_ms: context.scoredAt - context.fetchedAt,
  };
}
