/**
 * Reason codes for alerts: the features that pushed an alerted event's score up most, largest first. Two
 * ways to attribute a score, as the manifest's `explanation` says: LINEAR, exact contributions to the logit
 * of a logistic regression (coefficient × (value − center)); OCCLUSION, for any model, the score's drop
 * when one feature at a time is set to its training median. Occlusion needs a score per alerted row and
 * feature not already at its median, so the occluded rows of a whole batch are built into one FeatureRows
 * the caller scores in one call. The top k are taken whatever their sign, so an alert that fewer than k features pushed up also
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
 * The rows to score for occlusion of a batch's alerted rows, in one FeatureRows: for alerted row a
 * (alertedRowIndexes[a], a row of `rows`) and each feature j whose value is not already its median, the row
 * with feature j set to medians[j]. A feature at its median would give the row itself back, so its
 * contribution is exactly 0 without scoring it: typical events sit at the median of most indicators, and
 * skipping them halves what occlusion costs. The element type is the input's, so a float32 row holds the
 * median rounded as the extractor rounds a feature.
 */
export interface OcclusionPlan {
  rows: FeatureRows;
  /** Occluded rows in `rows`. */
  count: number;
  /** Alerted row a's occluded rows are [first[a], first[a + 1]). */
  first: Int32Array;
  /** By occluded row, the feature it sets to its median, increasing within an alerted row. */
  feature: Int32Array;
}

export function planOcclusion(
  rows: FeatureRows,
  width: number,
  alertedRowIndexes: ArrayLike<number>,
  alertedCount: number,
  medians: ArrayLike<number>,
): OcclusionPlan {
  // The medians as the rows hold values, so "already at its median" compares like with like.
  const served = allocateFeatureRows(elementTypeOf(rows), width);
  for (let feature = 0; feature < width; feature++) served[feature] = medians[feature]!;
  const first = new Int32Array(alertedCount + 1);
  let count = 0;
  for (let alerted = 0; alerted < alertedCount; alerted++) {
    first[alerted] = count;
    const source = alertedRowIndexes[alerted]! * width;
    for (let feature = 0; feature < width; feature++) if (rows[source + feature] !== served[feature]) count++;
  }
  first[alertedCount] = count;
  const occluded = allocateFeatureRows(elementTypeOf(rows), count * width);
  const featureOf = new Int32Array(count);
  let next = 0;
  for (let alerted = 0; alerted < alertedCount; alerted++) {
    const source = alertedRowIndexes[alerted]! * width;
    for (let feature = 0; feature < width; feature++) {
      if (rows[source + feature] === served[feature]) continue;
      const target = next * width;
      for (let copied = 0; copied < width; copied++) occluded[target + copied] = rows[source + copied]!;
      occluded[target + feature] = served[feature]!;
      featureOf[next++] = feature;
    }
  }
  return { rows: occluded, count, first, feature: featureOf };
}

/**
 * The top k features of alerted row `alerted` of `plan` by occlusion: feature j's contribution is
 * originalScore minus the score of the row with j at its median (occludedScores, by occluded row), 0 for a
 * feature that was at its median already.
 */
export function occlusionReasons(
  originalScore: number,
  occludedScores: Float32Array,
  plan: OcclusionPlan,
  alerted: number,
  width: number,
  k: number,
  out: ReasonCodes,
): void {
  startReasons(out, 'OCCLUSION', k);
  let occluded = plan.first[alerted]!;
  const end = plan.first[alerted + 1]!;
  for (let feature = 0; feature < width; feature++) {
    let contribution = 0;
    if (occluded < end && plan.feature[occluded] === feature) {
      contribution = originalScore - occludedScores[occluded]!;
      occluded++;
    }
    offerReason(out, k, feature, contribution);
  }
}
