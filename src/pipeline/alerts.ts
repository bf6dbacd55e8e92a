/**
 * What alerts a batch adds to its output: one record for each prediction whose score reached its model's
 * alert threshold (the manifest's `alertThreshold`, else its `threshold`), with the features that pushed it
 * there. Reasons come in two steps because occlusion needs the champion's lease: `explainChampion` runs
 * while the batch still holds it and scores every occluded row of the batch's alerted rows in one call;
 * `collect` then writes the alerts once the canaries have decided their rows. A canary-decided alert carries
 * no reasons (method NONE): its rows were mapped by the canary, and its lease is gone by then.
 */
import type { FeatureRows } from '../features/index.js';
import { isRunFailure, type ServingModel } from '../inference/index.js';
import type { InputRecord, OutputRecord } from '../kafka/index.js';
import type { ModelManifest } from '../models/index.js';
import {
  clearReasons,
  createReasonCodes,
  linearReasons,
  type OcclusionPlan,
  occlusionReasons,
  planOcclusion,
  type ReasonCodes,
} from '../monitoring/index.js';
import type { AlertEncoder, AlertSource, ScoredEvent } from '../routing/index.js';

export interface AlertOptions {
  encoder: AlertEncoder;
  topic: string;
  /** Reason codes per alert. */
  reasonCodes: number;
}

export function alertThresholdOf(manifest: Pick<ModelManifest, 'threshold' | 'alertThreshold'>): number {
  return manifest.alertThreshold ?? manifest.threshold;
}

/** What the alerts of the rows one model decided share. */
export function alertSource(
  manifest: ModelManifest,
  variant: string,
  scoredTime: number,
  features: FeatureRows,
  scores: Float32Array,
): ExplainedSource {
  return { manifest, variant, alertThreshold: alertThresholdOf(manifest), scoredTime, features, scores };
}

/** The champion's reasons for one batch, ready for `collect`. */
export interface ChampionExplanation {
  /** Scores of the occluded rows of `occlusion`; undefined unless occlusion reasons were computed. */
  occludedScores: Float32Array | undefined;
  occlusion?: OcclusionPlan | undefined;
  /** Position of each batch row among the alerted rows; -1 when the champion did not alert on it. */
  alertPosition: Int32Array;
}

export interface BatchAlerts {
  readonly topic: string;
  explainChampion(
    model: ServingModel,
    rows: FeatureRows,
    count: number,
    scores: Float32Array,
    failedRows: readonly number[],
  ): Promise<ChampionExplanation>;
  /**
   * The alert of a record if the score that decided it, `decidedBy.scores[index]`, reached its model's
   * threshold: appended to `out`. `index` is the batch row for the champion (whose `explanation` gives the
   * reasons), a canary's position for a canary (no explanation: no reasons).
   */
  collect(
    out: OutputRecord[],
    record: InputRecord,
    event: ScoredEvent,
    index: number,
    decidedBy: ExplainedSource,
    explanation: ChampionExplanation | undefined,
  ): void;
}

/** An alert source whose manifest says how to explain it. */
export type ExplainedSource = AlertSource & { manifest: ModelManifest };

const NOT_ALERTED = -1;

/** Medians by feature from the baseline, computed once per manifest; null without a baseline. */
const mediansOf = new WeakMap<ModelManifest, Float64Array | null>();

function medians(manifest: ModelManifest): Float64Array | null {
  let found = mediansOf.get(manifest);
  if (found === undefined) {
    found = manifest.baseline
      ? Float64Array.from(manifest.baseline.features, (feature) => feature.median)
      : null;
    mediansOf.set(manifest, found);
  }
  return found;
}

export function createBatchAlerts(options: AlertOptions): BatchAlerts {
  const reasons: ReasonCodes = createReasonCodes(options.reasonCodes);
  let alerted = new Int32Array(64);

  const reasonsFor = (
    source: ExplainedSource,
    row: number,
    explanation: ChampionExplanation,
  ): ReasonCodes => {
    const { manifest } = source;
    const position = explanation.alertPosition[row]!;
    const width = manifest.features.length;
    const k = Math.min(options.reasonCodes, width);
    if (manifest.explanation?.method === 'linear') {
      linearReasons(manifest.explanation, source.features, width, row, k, reasons);
    } else if (explanation.occludedScores !== undefined && position !== NOT_ALERTED) {
      occlusionReasons(
        source.scores[row]!,
        explanation.occludedScores,
        explanation.occlusion!,
        position,
        width,
        k,
        reasons,
      );
    } else {
      clearReasons(reasons);
    }
    return reasons;
  };

  return {
    topic: options.topic,
    async explainChampion(model, rows, count, scores, failedRows) {
      const threshold = alertThresholdOf(model.manifest);
      const alertPosition = new Int32Array(count).fill(NOT_ALERTED);
      const failed = failedRows.length > 0 ? new Set(failedRows) : undefined;
      let alerts = 0;
      for (let row = 0; row < count; row++) {
        if (scores[row]! < threshold || failed?.has(row)) continue;
        if (alerts === alerted.length) {
          const grown = new Int32Array(alerted.length * 2);
          grown.set(alerted);
          alerted = grown;
        }
        alertPosition[row] = alerts;
        alerted[alerts++] = row;
      }
      const baselineMedians = medians(model.manifest);
      if (alerts === 0 || model.manifest.explanation?.method === 'linear' || baselineMedians === null) {
        return { occludedScores: undefined, alertPosition };
      }
      const width = model.features.width;
      // A call of its own, past the batcher and the prediction cache: occluded rows are never asked for
      // again, and hashing them into the cache cost the main thread more than the rest of monitoring.
      const occlusion = planOcclusion(rows, width, alerted, alerts, baselineMedians);
      if (occlusion.count === 0) return { occludedScores: new Float32Array(0), occlusion, alertPosition };
      try {
        return {
          occludedScores: await model.scoreAlone(occlusion.rows, occlusion.count),
          occlusion,
          alertPosition,
        };
      } catch (error) {
        // A model that cannot score an occluded row still alerted: the alerts go out without reasons.
        if (!isRunFailure(error)) throw error;
        return { occludedScores: undefined, alertPosition };
      }
    },

    collect(out, record, event, index, decidedBy, explanation) {
      if (decidedBy.scores[index]! < decidedBy.alertThreshold) return;
      const codes = explanation ? reasonsFor(decidedBy, index, explanation) : clearedReasons();
      out.push({ key: record.key, value: options.encoder.encodeAlert(decidedBy, index, event, codes) });
    },
  };

  function clearedReasons(): ReasonCodes {
    clearReasons(reasons);
    return reasons;
  }
}
