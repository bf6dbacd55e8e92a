/**
 * Population stability index of one distribution against another over the same bins:
 * PSI = Σ (aᵢ − eᵢ) · ln(aᵢ / eᵢ), with eᵢ the expected share of bin i and aᵢ the actual one. The usual
 * reading: below 0.1 the distributions match, 0.1 to 0.25 they moved, above 0.25 they differ.
 * Experiments compare a challenger's scores with the champion's over 10 equal-width bins on [0, 1]
 * (`psiBin`); drift monitoring compares served features with a manifest's training bins.
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

/**
 * PSI of `actual` bin counts against `expected` ones (counts or shares: each side is divided by its own
 * total), over `expected.length` bins, which `actual` must have too; null when either side counted nothing.
 */
export function populationStabilityIndex(
  expected: ArrayLike<number>,
  actual: ArrayLike<number>,
): number | null {
  const bins = expected.length;
  if (actual.length !== bins) {
    throw new RangeError(`populationStabilityIndex: ${bins} expected bins, ${actual.length} actual`);
  }
  let expectedTotal = 0;
  let actualTotal = 0;
  for (let bin = 0; bin < bins; bin++) {
    expectedTotal += expected[bin]!;
    actualTotal += actual[bin]!;
  }
  if (expectedTotal === 0 || actualTotal === 0) return null;
  let psi = 0;
  for (let bin = 0; bin < bins; bin++) {
    const expectedShare = Math.max(expected[bin]! / expectedTotal, PSI_EMPTY_BIN_SHARE);
    const actualShare = Math.max(actual[bin]! / actualTotal, PSI_EMPTY_BIN_SHARE);
    psi += (actualShare - expectedShare) * Math.log(actualShare / expectedShare);
  }
  return psi;
}
