import { describe, expect, it } from 'vitest';
import type { LatencySummary } from '../../loadtests/lib/latency.js';
import type { IntervalSummary } from '../../loadtests/lib/open-loop.js';
import {
  fellBehind,
  findKnee,
  intervalPhases,
  type RampPlan,
  rampMarkdown,
} from '../../loadtests/lib/ramp.js';

const plan: RampPlan = { fromRate: 2_000, toRate: 20_000, warmupSeconds: 2, rampSeconds: 10 };
const latencyMs: LatencySummary = { count: 100, p50: 5, p90: 8, p99: 12, p999: 20, max: 25, mean: 6 };

/** Intervals ending every 2 s (a few ms late, as the sampler closes them), received at `share` of offered. */
function intervalsReceiving(shares: readonly number[], rates: readonly number[]): IntervalSummary[] {
  let lag = 0;
  return shares.map((share, index) => {
    const offeredRate = rates[index]!;
    lag += (offeredRate - offeredRate * share) * 2;
    return {
      seconds: 2 * (index + 1) + 0.004 * (index + 1),
      offeredRate,
      sentRate: offeredRate,
      receivedRate: offeredRate * share,
      lag,
      latencyMs,
    };
  });
}
// Warm-up, five ramp intervals, then one in the grace period.
const rates = [2_000, 3_800, 7_400, 11_000, 14_600, 18_200, 0];

describe('intervalPhases', () => {
  it('places each interval by its midpoint, whatever the sampler drift', () => {
    const intervals = intervalsReceiving([1, 1, 1, 1, 1, 1, 1], rates);
    expect(intervalPhases(intervals, plan)).toEqual([
      'warm-up',
      'ramp',
      'ramp',
      'ramp',
      'ramp',
      'ramp',
      'after',
    ]);
  });
});

describe('fellBehind', () => {
  it('is more than 5% fewer outputs than events offered', () => {
    const [interval] = intervalsReceiving([0.96], [10_000]);
    expect(fellBehind(interval!)).toBe(false);
    expect(fellBehind({ ...interval!, receivedRate: 9_499 })).toBe(true);
    expect(fellBehind({ ...interval!, receivedRate: 12_000 })).toBe(false);
  });
});

describe('findKnee', () => {
  it('finds none while every ramp interval keeps up', () => {
    expect(findKnee(intervalsReceiving([1, 0.99, 1.01, 0.97, 1, 1, 1], rates), plan)).toBeUndefined();
  });

  it('ignores a single interval behind that the target caught up on', () => {
    expect(findKnee(intervalsReceiving([1, 1, 0.8, 1.15, 1, 0.97, 1], rates), plan)).toBeUndefined();
  });

  it('does not pair the last ramp interval with the grace period', () => {
    // The last interval may straddle the end of the schedule and still be offered events.
    const straddling = [...rates.slice(0, -1), 9_000];
    expect(findKnee(intervalsReceiving([1, 1, 1, 1, 1, 0.6, 0.6], straddling), plan)).toBeUndefined();
  });

  it('is the first of two intervals in a row behind, with the rate held just before it', () => {
    const knee = findKnee(intervalsReceiving([1, 0.8, 1, 0.9, 0.7, 0.6, 0], rates), plan);
    expect(knee).toMatchObject({ offeredRate: 11_000, lastHeldRate: 7_400, generatorBehind: false });
    expect(knee?.receivedRate).toBeCloseTo(9_900, 6);
    expect(knee?.seconds).toBeCloseTo(8.016, 9);
  });

  it('starts at the first ramp interval at the earliest, with no held rate then', () => {
    const knee = findKnee(intervalsReceiving([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0], rates), plan);
    expect(knee?.offeredRate).toBe(3_800);
    expect(knee?.lastHeldRate).toBeNull();
  });

  it('says when the generator, not the target, was behind at the knee', () => {
    const intervals = intervalsReceiving([1, 1, 1, 0.8, 0.8, 1, 1], rates);
    intervals[3] = { ...intervals[3]!, sentRate: intervals[3]!.offeredRate * 0.9 };
    expect(findKnee(intervals, plan)?.generatorBehind).toBe(true);
  });
});

describe('rampMarkdown', () => {
  it('tabulates the warm-up and the ramp, marks the knee and states it', () => {
    const intervals = intervalsReceiving([1, 1, 1, 0.8, 0.8, 0.7, 0], rates);
    const knee = findKnee(intervals, plan);
    const markdown = rampMarkdown({ plan, quick: false, intervals, knee, latencyMs, unreceived: 3 });
    const rows = markdown.split('\n').filter((line) => /^\| \d/.test(line));
    expect(rows).toHaveLength(6);
    expect(rows[0]).toContain('(warm-up)');
    expect(rows.filter((row) => row.includes('**knee**'))).toEqual([rows[3]]);
    expect(markdown).toContain('**Knee at about 11,000/s offered**');
    expect(markdown).toContain('offered 7,400/s, kept up');
    expect(markdown).not.toContain('--quick');
  });

  it('says so when there is no knee', () => {
    const intervals = intervalsReceiving([1, 1, 1, 1, 1, 1, 1], rates);
    const markdown = rampMarkdown({
      plan,
      quick: true,
      intervals,
      knee: undefined,
      latencyMs,
      unreceived: 0,
    });
    expect(markdown).toContain('**No knee**');
    expect(markdown).toContain('--quick');
    expect(markdown).not.toContain('**knee**');
  });
});
