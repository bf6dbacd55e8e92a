import { describe, expect, it } from 'vitest';
import { PSI_EMPTY_BIN_SHARE, populationStabilityIndex, psiBin } from '../../src/experiments/index.js';

const bins = (counts: Record<number, number>) => Array.from({ length: 10 }, (_, bin) => counts[bin] ?? 0);

describe('population stability index', () => {
  it('is 0 for the same distribution, whatever the counts', () => {
    expect(populationStabilityIndex(bins({ 1: 10, 4: 30 }), bins({ 1: 100, 4: 300 }))).toBe(0);
  });

  it('matches a value computed by hand', () => {
    // Shares (0.5, 0.5) against (0.25, 0.75): 0.25·ln 2 + 0.25·ln 1.5 = 0.25·ln 3.
    expect(populationStabilityIndex(bins({ 0: 50, 1: 50 }), bins({ 0: 25, 1: 75 }))).toBeCloseTo(
      0.25 * Math.log(3),
      12,
    );
  });

  it('gives empty bins a share of 1e-4 instead of an infinite logarithm', () => {
    expect(PSI_EMPTY_BIN_SHARE).toBe(1e-4);
    // Champion all in bin 0; challenger half in bin 0, half in bin 9 (empty for the champion).
    const expected = (0.5 - 1) * Math.log(0.5 / 1) + (0.5 - 1e-4) * Math.log(0.5 / 1e-4);
    expect(populationStabilityIndex(bins({ 0: 100 }), bins({ 0: 50, 9: 50 }))).toBeCloseTo(expected, 12);
    expect(expected).toBeCloseTo(4.60432, 5);
  });

  it('is undefined (null) when either side has no scores', () => {
    expect(populationStabilityIndex(bins({}), bins({ 3: 1 }))).toBeNull();
    expect(populationStabilityIndex(bins({ 3: 1 }), bins({}))).toBeNull();
  });

  it('compares any number of bins, shares as well as counts', () => {
    // Three bins: shares (0.5, 0.3, 0.2) expected, counts (20, 30, 50) actual.
    const byHand = -0.3 * Math.log(0.2 / 0.5) + 0.3 * Math.log(0.5 / 0.2);
    expect(populationStabilityIndex([0.5, 0.3, 0.2], [20, 30, 50])).toBeCloseTo(byHand, 12);
    expect(populationStabilityIndex(new Float64Array([0.5, 0.5]), new Float64Array([1, 1]))).toBe(0);
    expect(() => populationStabilityIndex([0.5, 0.5], [1, 1, 1])).toThrow(RangeError);
  });

  it('bins scores in tenths of [0, 1], the ends taking what lies outside', () => {
    expect([0, 0.05, 0.1, 0.15, 0.55, 0.95, 0.999, 1].map(psiBin)).toEqual([0, 0, 1, 1, 5, 9, 9, 9]);
    expect([-0.2, 1.7, Number.NaN].map(psiBin)).toEqual([0, 9, 0]);
  });
});
