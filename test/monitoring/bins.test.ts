import { describe, expect, it } from 'vitest';
import { compileBins, UNSEEN_LABEL } from '../../src/monitoring/index.js';

describe('edge bins', () => {
  const bins = compileBins({ edges: [1.2, 3.4, 9], proportions: [0.1, 0.4, 0.3, 0.2] });

  it('puts a value equal to an edge in the bin above it', () => {
    expect([1.2, 3.4, 9].map((x) => bins.binOf(x))).toEqual([1, 2, 3]);
    expect([1.1999999, 3.3999999, 8.9999999].map((x) => bins.binOf(x))).toEqual([0, 1, 2]);
  });

  it('gives the first bin everything below the first edge and the last everything from the last edge', () => {
    expect([-1e300, -5, 0, 2, 5, 1e300].map((x) => bins.binOf(x))).toEqual([0, 0, 0, 1, 2, 3]);
    expect([Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY].map((x) => bins.binOf(x))).toEqual([0, 3]);
  });

  it('has one bin per proportion, each expected at its training share, labelled as a range', () => {
    expect(bins.binCount).toBe(4);
    expect([...bins.expected]).toEqual([0.1, 0.4, 0.3, 0.2]);
    expect(bins.labels).toEqual(['< 1.2', '[1.2, 3.4)', '[3.4, 9)', '>= 9']);
  });

  it('bins with a single edge split at it', () => {
    const split = compileBins({ edges: [0.5], proportions: [0.8, 0.2] });
    expect([0, 0.4999, 0.5, 1].map((x) => split.binOf(x))).toEqual([0, 0, 1, 1]);
    expect(split.labels).toEqual(['< 0.5', '>= 0.5']);
  });

  it('finds the bin by binary search across many edges', () => {
    const edges = Array.from({ length: 99 }, (_, index) => index + 1);
    const many = compileBins({ edges, proportions: Array.from({ length: 100 }, () => 0.01) });
    for (let value = -1; value <= 101; value += 0.25) {
      expect(many.binOf(value)).toBe(Math.min(99, Math.max(0, Math.floor(value))));
    }
  });

  it('counts one column of row-major rows, float32 or float64', () => {
    // Three rows of width 2; column 1 holds 0, 3.4, 10.
    for (const rows of [new Float32Array([5, 0, 5, 3.4, 5, 10]), new Float64Array([5, 0, 5, 3.4, 5, 10])]) {
      const counts = new Float64Array(bins.binCount);
      bins.countColumn(rows, 2, 1, 3, counts);
      // Math.fround(3.4) is just above 3.4: the bin it opens.
      expect([...counts]).toEqual([1, 0, 1, 1]);
    }
  });

  it('counts only the first `count` rows', () => {
    const counts = new Float64Array(bins.binCount);
    bins.countColumn(new Float64Array([0, 5, 10, 10]), 1, 0, 2, counts);
    expect([...counts]).toEqual([1, 0, 1, 0]);
  });
});

describe('value bins', () => {
  const bins = compileBins({ values: [0, 1, 7], proportions: [0.6, 0.3, 0.1] });

  it('matches values by equality, in the order the manifest lists them', () => {
    expect([0, 1, 7].map((x) => bins.binOf(x))).toEqual([0, 1, 2]);
    const unsorted = compileBins({ values: [7, 0, 1], proportions: [0.1, 0.6, 0.3] });
    expect([0, 1, 7].map((x) => unsorted.binOf(x))).toEqual([1, 2, 0]);
  });

  it('counts any other value in an extra unseen bin expected at share 0', () => {
    expect([0.5, 2, -1, 1e9, Number.NaN].map((x) => bins.binOf(x))).toEqual([3, 3, 3, 3, 3]);
    expect(bins.binCount).toBe(4);
    expect([...bins.expected]).toEqual([0.6, 0.3, 0.1, 0]);
    expect(bins.labels).toEqual(['= 0', '= 1', '= 7', UNSEEN_LABEL]);
    expect(UNSEEN_LABEL).toBe('unseen');
  });

  it('matches a float32 row carrying a value float32 cannot hold exactly', () => {
    const fractional = compileBins({ values: [0.1, 0.25], proportions: [0.5, 0.5] });
    const rows = new Float32Array([0.1, 0.25, 0.3]);
    const counts = new Float64Array(fractional.binCount);
    fractional.countColumn(rows, 1, 0, 3, counts);
    expect([...counts]).toEqual([1, 1, 1]);
    expect(fractional.binOf(0.1)).toBe(0);
  });

  it('keeps an exact value in its own bin when another value rounds to it in float32', () => {
    const exact = Math.fround(0.1);
    const close = compileBins({ values: [0.1, exact], proportions: [0.5, 0.5] });
    expect([close.binOf(0.1), close.binOf(exact)]).toEqual([0, 1]);
  });
});
