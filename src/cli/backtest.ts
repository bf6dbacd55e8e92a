/**
 * A backtest: a candidate model version and the one it would replace score the same recorded events, off
 * the serving path, and the figures come out of the counting a live shadow uses (experiments/: agreement,
 * flips, score differences, PSI), with each version's confusion counts at its own threshold where labels
 * are given (monitoring/). So a team can ask "what would a shadow of this version have shown last week"
 * before it deploys one.
 *
 * An event is judged as the service judges it: one the baseline cannot decode or map is skipped under the
 * code it would be dead-lettered with; one only the candidate cannot map counts as a candidate ERROR, as a
 * shadow's row would.
 */
import type { RecordDecoder } from '../codec/index.js';
import { type ErrorCode, isBadRecord } from '../errors/index.js';
import { createExperimentFigures, type Figures, type PairMember } from '../experiments/index.js';
import type { DecodedRecord, FeatureExtractor } from '../features/index.js';
import type { ScoringSession } from '../inference/index.js';
import type { InputRecord } from '../kafka/index.js';
import { type GroundTruthReport, GroundTruthTally } from '../monitoring/index.js';
import { ScoringStatus } from '../routing/index.js';

export interface BacktestModel {
  variant: string;
  session: ScoringSession;
  features: FeatureExtractor;
}

/** An event's label as the labels topic gave it last. */
export interface KnownLabel {
  label: string;
  labelTime: number;
}

export interface ModelOutcome extends PairMember {
  threshold: number;
  scored: number;
  /** Scores at or above the threshold. */
  positives: number;
  positiveRate: number | null;
  /** Over the scored events that have a label; null without a labels topic. */
  groundTruth: GroundTruthReport | null;
}

export interface BacktestResult {
  /** Events read. */
  events: number;
  /** Events the baseline scored. */
  scored: number;
  /** Events skipped, by the code the service would dead-letter them with. */
  skipped: { code: ErrorCode; count: number }[];
  baseline: ModelOutcome;
  candidate: ModelOutcome;
  /** The candidate against the baseline, as a shadow's comparisons would count them; null if none scored. */
  comparison: Figures | null;
}

export interface Backtest {
  /** Buffers one event; `flush` scores what is buffered. */
  add(record: InputRecord): void;
  flush(): Promise<void>;
  result(): BacktestResult;
}

class ModelTally {
  scored = 0;
  positives = 0;
  readonly groundTruth: GroundTruthTally;

  constructor(readonly model: BacktestModel) {
    const { manifest } = model.session;
    this.groundTruth = new GroundTruthTally(
      manifest.name,
      manifest.version,
      model.variant,
      manifest.labels,
      manifest.threshold,
    );
  }

  /** A batch's scores by row; rows whose status is not OK were not scored. */
  add(
    scores: Float32Array,
    events: readonly DecodedRecord[],
    labels: ReadonlyMap<string, KnownLabel> | undefined,
    statuses?: Uint8Array,
  ): void {
    const { threshold } = this.model.session.manifest;
    for (let row = 0; row < events.length; row++) {
      if (statuses && statuses[row] !== ScoringStatus.OK) continue;
      const positive = scores[row]! >= threshold;
      this.scored += 1;
      if (positive) this.positives += 1;
      const event = events[row]!;
      const known = labels?.get(String(event.event_id));
      if (known) this.groundTruth.record(positive, Number(event.event_time), known.label, known.labelTime);
    }
  }

  outcome(withLabels: boolean): ModelOutcome {
    const { manifest } = this.model.session;
    return {
      variant: this.model.variant,
      model: manifest.name,
      version: manifest.version,
      threshold: manifest.threshold,
      scored: this.scored,
      positives: this.positives,
      positiveRate: this.scored === 0 ? null : this.positives / this.scored,
      groundTruth: withLabels ? this.groundTruth.report() : null,
    };
  }
}

export function createBacktest(options: {
  decoder: RecordDecoder<DecodedRecord>;
  baseline: BacktestModel;
  candidate: BacktestModel;
  /** Labels by event id; undefined when no labels topic is read. */
  labels: ReadonlyMap<string, KnownLabel> | undefined;
}): Backtest {
  const { decoder, baseline, candidate, labels } = options;
  decoder.readFields(['event_id', 'event_time', ...baseline.features.fields, ...candidate.features.fields]);
  // The window is not what a backtest reports: one spanning any range leaves every event in the total.
  const figures = createExperimentFigures({ windowMs: Number.MAX_SAFE_INTEGER });
  const tallies = { baseline: new ModelTally(baseline), candidate: new ModelTally(candidate) };
  const skipped = new Map<ErrorCode, number>();
  let pending: InputRecord[] = [];
  let events = 0;
  let newestMs = 0;

  const skip = (code: ErrorCode) => skipped.set(code, (skipped.get(code) ?? 0) + 1);

  return {
    add(record) {
      events += 1;
      newestMs = Math.max(newestMs, Number(record.timestamp));
      pending.push(record);
    },

    async flush() {
      const batch = pending;
      pending = [];
      if (batch.length === 0) return;
      await decoder.prepare(batch);
      const baselineRows = baseline.features.allocateRows(batch.length);
      const candidateRows = candidate.features.allocateRows(batch.length);
      const statuses = new Uint8Array(batch.length);
      const accepted: DecodedRecord[] = [];
      for (const record of batch) {
        try {
          const decoded = decoder.decode(record.value);
          baseline.features.extractInto(decoded, baselineRows, accepted.length);
          try {
            candidate.features.extractInto(decoded, candidateRows, accepted.length);
          } catch (error) {
            if (!isBadRecord(error)) throw error;
            statuses[accepted.length] = ScoringStatus.ERROR;
          }
          accepted.push(decoded);
        } catch (error) {
          if (!isBadRecord(error)) throw error;
          skip(error.code);
        }
      }
      if (accepted.length === 0) return;
      const count = accepted.length;
      const baselineScores = await baseline.session.score(baselineRows, count);
      const startedAt = performance.now();
      const candidateScores = await candidate.session.score(candidateRows, count);
      const latencyMs = performance.now() - startedAt;
      tallies.baseline.add(baselineScores, accepted, labels);
      tallies.candidate.add(candidateScores, accepted, labels, statuses);
      figures.addBatch(
        {
          variant: baseline.variant,
          manifest: baseline.session.manifest,
          scores: baselineScores,
          latencyMs: 0,
        },
        {
          variant: candidate.variant,
          manifest: candidate.session.manifest,
          rows: Uint32Array.from({ length: count }, (_, row) => row),
          count,
          scores: candidateScores,
          statuses: statuses.subarray(0, count),
          latencyMs,
        },
        newestMs,
      );
    },

    result() {
      const [pair] = figures.summary(newestMs).pairs;
      const withLabels = labels !== undefined;
      return {
        events,
        scored: tallies.baseline.scored,
        skipped: [...skipped].map(([code, count]) => ({ code, count })),
        baseline: tallies.baseline.outcome(withLabels),
        candidate: tallies.candidate.outcome(withLabels),
        comparison: pair?.total ?? null,
      };
    },
  };
}
