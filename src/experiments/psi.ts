/**
 * Population stability index of the challenger's scores against the champion's over the same events:
 * PSI = Σ (aᵢ − eᵢ) · ln(aᵢ / eᵢ) over 10 equal-width bins on [0, 1], with eᵢ the champion's share of
 * scores in bin i and aᵢ the challenger's. The usual reading: below 0.1 the distributions match, 0.1 to
 * 0.25 they moved, above 0.25 they differ.
 */

export const PSI_BINS = 10;

/**
 * Stands in for the share of an empty bin, whose logarithm would be infinite; 1e-4 is the common choice
 * (one event in ten thousand), applied to the share, not renormalised.
 */
export const PSI_EMPTY_BIN_SHARE = 1e-4;

/** Bin of a score; scores outside [0, 1] (and NaN) count in the nearest end bin. */
export function psiBin(score: number): number {
  if (score >= 1) return PSI_BINS - 1;
  if (score > 0) return Math.floor(score * PSI_BINS);
  return 0;
}

/** PSI of `actual` bin counts against `expected` ones; null when either side counted nothing. */
export function populationStabilityIndex(
  expected: ArrayLike<number>,
  actual: ArrayLike<number>,
): number | null {
  let expectedTotal = 0;
  let actualTotal = 0;
  for (let bin = 0; bin < PSI_BINS; bin++) {
    expectedTotal += expected[bin]!;
    actualTotal += actual[bin]!;
  }
  if (expectedTotal === 0 || actualTotal === 0) return null;
  let psi = 0;
  for (let bin = 0; bin < PSI_BINS; bin++) {
    const expectedShare = Math.max(expected[bin]! / expectedTotal, PSI_EMPTY_BIN_SHARE);
    const actualShare = Math.max(actual[bin]! / actualTotal, PSI_EMPTY_BIN_SHARE);
    psi += (actualShare - expectedShare) * Math.log(actualShare / expectedShare);
  }
  return psi;
}
