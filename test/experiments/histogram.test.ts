import { describe, expect, it } from 'vitest';
import { LogHistogram } from '../../src/experiments/histogram.js';

// 20 buckets per decade: each bound is 10^(1/20) ≈ 1.122 times the one below (plus rounding's last bit).
const STEP = 10 ** (1 / 20) * (1 + 1e-12);
const buckets = { lowest: 1e-6, decades: 6, stepsPerDecade: 20 };

function histogramOf(values: [value: number, times: number][]): LogHistogram {
  const histogram = new LogHistogram(buckets);
  for (const [value, times] of values) for (let time = 0; time < times; time++) histogram.add(value);
  return histogram;
}

describe('log histogram', () => {
  it('reports nearest-rank quantiles no lower than the value and at most one bucket above it', () => {
    const histogram = histogramOf([
      [0.01, 50],
      [0.1, 40],
      [0.5, 10],
    ]);
    expect(histogram.total).toBe(100);
    const p50 = histogram.quantile(0.5)!;
    const p90 = histogram.quantile(0.9)!;
    expect(p50).toBeGreaterThanOrEqual(0.01);
    expect(p50).toBeLessThanOrEqual(0.01 * STEP);
    expect(p90).toBeGreaterThanOrEqual(0.1);
    expect(p90).toBeLessThanOrEqual(0.1 * STEP);
    // The 51st value is the first 0.1: p51 is in its bucket, not 0.01's.
    expect(histogram.quantile(0.51)!).toBeGreaterThanOrEqual(0.1);
  });

  it('caps a quantile at the exact maximum, so a quantile in the top bucket is exact', () => {
    const histogram = histogramOf([
      [0.0123, 98],
      [0.4567, 2],
    ]);
    expect(histogram.quantile(0.99)).toBe(0.4567);
    expect(histogram.max).toBe(0.4567);
    expect(histogramOf([[0.3, 7]]).quantile(0.5)).toBe(0.3);
  });

  it('keeps values at or below the lowest bound together, and zero stays zero', () => {
    expect(histogramOf([[0, 10]]).quantile(0.99)).toBe(0);
    const tiny = histogramOf([
      [1e-9, 1],
      [5e-7, 1],
    ]);
    expect(tiny.counts[0]).toBe(2);
    expect(tiny.quantile(0.5)).toBe(5e-7);
  });

  it('counts magnitudes, so a negative difference counts like a positive one', () => {
    const histogram = histogramOf([[-0.25, 3]]);
    expect(histogram.max).toBe(0.25);
    expect(histogram.quantile(0.5)).toBe(0.25);
  });

  it('puts values past the top in an overflow bucket reported at the maximum', () => {
    const histogram = histogramOf([
      [0.5, 1],
      [7, 1],
    ]);
    expect(histogram.counts.at(-1)).toBe(1);
    expect(histogram.quantile(1)).toBe(7);
  });

  it('merges and resets', () => {
    const first = histogramOf([[0.01, 3]]);
    const second = histogramOf([[0.2, 1]]);
    first.merge(second);
    expect(first.total).toBe(4);
    expect(first.max).toBe(0.2);
    expect(first.quantile(0.75)!).toBeLessThanOrEqual(0.01 * STEP);
    expect(first.quantile(1)).toBe(0.2);
    first.reset();
    expect(first.total).toBe(0);
    expect(first.quantile(0.5)).toBeNull();
  });

  it('adds a weight as that many values', () => {
    const histogram = new LogHistogram(buckets);
    histogram.add(0.02, 9);
    histogram.add(0.3, 1);
    expect(histogram.total).toBe(10);
    expect(histogram.quantile(0.9)!).toBeLessThanOrEqual(0.02 * STEP);
    expect(histogram.quantile(0.91)).toBe(0.3);
  });
});
