/**
 * The pipeline's seams, published on diagnostics channels. Stages publish; logging, metrics and tracing
 * subscribe from outside, so the hot path never imports them and costs one `hasSubscribers` check when
 * nobody listens.
 */
import diagnostics from 'node:diagnostics_channel';
import type { ErrorCode, StreamscoreError } from '../errors/index.js';
import type { ModelManifest } from '../models/index.js';

/** A record set aside, at the moment it is (logged then; counted once its dead letter is delivered). */
export interface RecordRejected {
  topic: string;
  partition: number;
  offset: string;
  error: StreamscoreError;
}

export interface BatchPublished {
  topic: string;
  partition: number;
  /** Records fetched in this batch, including rejected ones. */
  records: number;
  predictions: number;
  /** Dead letters delivered with the batch, by reason; undefined when there were none. */
  rejections?: ReadonlyMap<ErrorCode, number> | undefined;
  lastOffset: string;
  /** The partition's end offset when the batch was fetched; lag = highWatermark - (lastOffset + 1). */
  highWatermark?: string | undefined;
  /** Kafka timestamp (epoch ms) of the batch's last record. */
  lastTimestampMs?: number | undefined;
  /** performance.now() when the batch arrived and when its predictions were acknowledged. */
  fetchedAt: number;
  publishedAt: number;
}

/** Which model version did the work: the labels every per-model metric carries. */
export interface ModelVersion {
  model: string;
  version: string;
}

/** One inference call, published when it has finished (or failed). */
export interface InferenceBatch extends ModelVersion {
  rows: number;
  /** How long the oldest row of the batch waited for the call, in milliseconds. */
  waitMs: number;
  /** From handing the rows to a worker to having the scores back on the main thread, in milliseconds. */
  runMs: number;
}

export interface PredictionCacheLookup extends ModelVersion {
  hits: number;
  misses: number;
}

/** A deployment's champion changed; from and to are version ids (`model@version`). */
export interface ModelSwapped {
  model: string;
  from: string | undefined;
  to: string;
  /** The first champion, a new version of a `latest` champion, or a decision (promotion, rollback). */
  reason: 'initial' | 'new-version' | 'decision';
}

/** One model's scores for a partition batch, by row (the champion) or by position (a challenger). */
export interface ScoredBy {
  variant: string;
  manifest: {
    name: string;
    version: string;
    sha256: string;
    threshold: number;
    labels: { negative: string; positive: string };
  };
  scores: Float32Array;
  latencyMs: number | undefined;
}

/** What a batch's challengers did beside its champion: statuses use the comparison schema's codes. */
export interface ChallengersScored {
  topic: string;
  /** Date.now() when they were compared. */
  at: number;
  champion: ScoredBy & { latencyMs: number; statuses?: Uint8Array | undefined };
  challengers: readonly (ScoredBy & {
    mode: 'shadow' | 'canary';
    rows: ArrayLike<number>;
    count: number;
    statuses: Uint8Array;
  })[];
}

/**
 * A partition batch its champion scored, with what monitoring needs to watch its inputs (drift windows):
 * the decoded records, the feature rows and scores as typed arrays, lent for the duration of the call.
 */
export interface ChampionScored {
  manifest: ModelManifest;
  records: readonly Readonly<Record<string, unknown>>[];
  /** `count` rows of `manifest.features.length` features, row-major. */
  rows: Float32Array | Float64Array;
  count: number;
  scores: Float32Array;
  /** Rows the model failed on (dead-lettered): their scores are not the model's. */
  failedRows: readonly number[];
  /** Date.now() when the scores were ready. */
  at: number;
}

export const inferenceBatch = diagnostics.channel('streamscore:inference.batch');
export const championScored = diagnostics.channel('streamscore:champion.scored');
export const challengersScored = diagnostics.channel('streamscore:challengers.scored');
export const predictionCacheLookup = diagnostics.channel('streamscore:cache.lookup');
export const modelSwapped = diagnostics.channel('streamscore:model.swapped');
export const recordRejected = diagnostics.channel('streamscore:record.rejected');
export const batchPublished = diagnostics.channel('streamscore:batch.published');

export function subscribe<T>(channel: diagnostics.Channel, listener: (message: T) => void): () => void {
  const handler = (message: unknown) => listener(message as T);
  channel.subscribe(handler);
  return () => channel.unsubscribe(handler);
}
