/**
 * Reason codes for alerts: the features that pushed an alerted event's score up most, largest first. Two
 * ways to attribute a score, as the manifest's `explanation` says: LINEAR, exact contributions to the logit
 * of a logistic regression (coefficient × (value − center)); OCCLUSION, for any model, the score's drop
 * when one feature at a time is set to its training median. Occlusion needs a score per alerted row and
 * feature, so the occluded rows of a whole batch are built into one FeatureRows the caller scores in one
 * call. The top k are taken whatever their sign, so an alert that fewer than k features pushed up also
 * shows what held it down (negative) or did nothing (0: a feature at its median). Nothing here allocates
 * per alert.
 */
import { allocateFeatureRows, elementTypeOf, type FeatureRows } from '../features/index.js';
import type { ModelExplanation } from '../models/index.js';

/** The schema's ReasonMethod symbols. */
export type ReasonMethod = 'NONE' | 'LINEAR' | 'OCCLUSION';

export type LinearExplanation = Extract<ModelExplanation, { method: 'linear' }>;

/** One alert's reasons, rewritten for every alert. */
export interface ReasonCodes {
  method: ReasonMethod;
  /** Reasons in use, at most the arrays' length. */
  count: number;
  /** Feature indexes in the manifest's order, largest contribution first. */
  readonly features: Int32Array;
  /** By reason: to the logit for LINEAR, to the score for OCCLUSION. */
  readonly contributions: Float64Array;
}

/** Room for `capacity` reasons (monitoring.reasonCodes); starts as NONE with no reasons. */
export function createReasonCodes(capacity: number): ReasonCodes {
  return {
    method: 'NONE',
    count: 0,
    features: new Int32Array(capacity),
    contributions: new Float64Array(capacity),
  };
}

/** For a model with neither an explanation nor medians, or whose occluded rows could not be scored. */
export function clearReasons(out: ReasonCodes): void {
  out.method = 'NONE';
  out.count = 0;
}

function startReasons(out: ReasonCodes, method: ReasonMethod, k: number): void {
  if (k > out.features.length) {
    throw new RangeError(`reason codes: ${k} asked for, room for ${out.features.length}`);
  }
  out.method = method;
  out.count = 0;
}

/**
 * Keeps feature `feature` if it is among the top k so far. Features come in increasing index, and one goes
 * after every kept one at least as large, so ties keep the smaller index first; NaN ranks below everything.
 */
function offerReason(out: ReasonCodes, k: number, feature: number, contribution: number): void {
  const { features, contributions } = out;
  const comparable = !Number.isNaN(contribution);
  let position = out.count;
  // `!(kept >= contribution)`: smaller, or NaN.
  while (comparable && position > 0 && !(contributions[position - 1]! >= contribution)) position--;
  if (position >= k) return;
  const last = Math.min(out.count, k - 1);
  for (let moved = last; moved > position; moved--) {
    features[moved] = features[moved - 1]!;
    contributions[moved] = contributions[moved - 1]!;
  }
  features[position] = feature;
  contributions[position] = contribution;
  out.count = last + 1;
}

/**
 * The top k features of row `rowIndex` by contribution to the logit, coefficient × (value − center), in
 * float64 on the values as the model saw them.
 */
export function linearReasons(
  explanation: LinearExplanation,
  rows: FeatureRows,
  width: number,
  rowIndex: number,
  k: number,
  out: ReasonCodes,
): void {
  startReasons(out, 'LINEAR', k);
  const { coefficients, center } = explanation;
  const start = rowIndex * width;
  for (let feature = 0; feature < width; feature++) {
    const value = rows[start + feature]!;
    const contribution = coefficients[feature]! * (center === undefined ? value : value - center[feature]!);
    offerReason(out, k, feature, contribution);
  }
}

/**
 * The rows to score for occlusion, in one FeatureRows of `count` × `width` rows of `width` features: for
 * alerted row a (alertedRowIndexes[a], a row of `rows`) and feature j, row a·width + j is that row with
 * feature j set to medians[j]. The element type is the input's, so a float32 row holds the median rounded
 * as the extractor rounds a feature. `out` is reused when it has that type and room enough, else a new one
 * is returned: keep the returned rows for the next batch (one whose buffer an inference call took over
 * reads as empty and is replaced).
 */
export function occlusionRows(
  rows: FeatureRows,
  width: number,
  alertedRowIndexes: ArrayLike<number>,
  count: number,
  medians: ArrayLike<number>,
  out?: FeatureRows,
): FeatureRows {
  const length = count * width * width;
  const occluded =
    out !== undefined && elementTypeOf(out) === elementTypeOf(rows) && out.length >= length
      ? out
      : allocateFeatureRows(elementTypeOf(rows), length);
  for (let alerted = 0; alerted < count; alerted++) {
    const source = alertedRowIndexes[alerted]! * width;
    for (let feature = 0; feature < width; feature++) {
      const target = (alerted * width + feature) * width;
      for (let copied = 0; copied < width; copied++) occluded[target + copied] = rows[source + copied]!;
      occluded[target + feature] = medians[feature]!;
    }
  }
  return occluded;
}

/**
 * The top k features of one alerted row by occlusion: feature j's contribution is originalScore minus the
 * score of the row with feature j at its median, occludedScores[offset + j] (offset = a·width for the a-th
 * alerted row of occlusionRows).
 */
export function occlusionReasons(
  originalScore: number,
  occludedScores: Float32Array,
  offset: number,
  width: number,
  k: number,
  out: ReasonCodes,
): void {
  startReasons(out, 'OCCLUSION', k);
  for (let feature = 0; feature < width; feature++) {
    offerReason(out, k, feature, originalScore - occludedScores[offset + feature]!);
  }
}
