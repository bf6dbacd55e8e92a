import { describe, expect, it } from 'vitest';
import { type LagSample, lagSlope } from '../../loadtests/lib/open-loop.js';

const series = (lagAt: (seconds: number) => number): LagSample[] =>
  Array.from({ length: 40 }, (_, index) => ({ seconds: index * 0.25, lag: lagAt(index * 0.25) }));

describe('lagSlope', () => {
  it('is zero for a flat lag, however large', () => {
    expect(lagSlope(series(() => 0))).toBe(0);
    expect(lagSlope(series(() => 5_000))).toBe(0);
  });

  it('is the growth per second of a steadily growing lag', () => {
    expect(lagSlope(series((seconds) => 300 + 1_200 * seconds))).toBeCloseTo(1_200, 9);
    expect(lagSlope(series((seconds) => 900 - 50 * seconds))).toBeCloseTo(-50, 9);
  });

  it('fits a least-squares line through a noisy lag', () => {
    const samples = [
      { seconds: 0, lag: 1 },
      { seconds: 1, lag: 3 },
      { seconds: 2, lag: 2 },
    ];
    expect(lagSlope(samples)).toBeCloseTo(0.5, 12);
  });

  it('is zero when there is no trend to fit', () => {
    expect(lagSlope([])).toBe(0);
    expect(lagSlope([{ seconds: 1, lag: 100 }])).toBe(0);
    expect(
      lagSlope([
        { seconds: 1, lag: 100 },
        { seconds: 1, lag: 300 },
      ]),
    ).toBe(0);
  });
});
