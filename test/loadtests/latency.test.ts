import { describe, expect, it } from 'vitest';
import { createLatencyRecorder } from '../../loadtests/lib/latency.js';

/** HdrHistogram at 3 significant digits: within 0.1%, plus the rounding to whole microseconds. */
function expectWithinPrecision(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(expected * 0.001 + 0.001);
}

describe('latency recorder', () => {
  it('summarises an empty histogram as zeros', () => {
    expect(createLatencyRecorder().summary()).toEqual({
      count: 0,
      p50: 0,
      p90: 0,
      p99: 0,
      p999: 0,
      max: 0,
      mean: 0,
    });
  });

  it('gives the percentiles of 1 to 100 ms', () => {
    const recorder = createLatencyRecorder();
    for (let latencyMs = 1; latencyMs <= 100; latencyMs++) recorder.recordMillis(latencyMs);
    const summary = recorder.summary();
    expect(summary.count).toBe(100);
    expectWithinPrecision(summary.p50, 50);
    expectWithinPrecision(summary.p90, 90);
    expectWithinPrecision(summary.p99, 99);
    expectWithinPrecision(summary.p999, 100);
    expect(summary.max).toBe(100);
    expectWithinPrecision(summary.mean, 50.5);
  });

  it('keeps a 1% tail out of the p99 and in the p99.9 and the max', () => {
    const recorder = createLatencyRecorder();
    for (let index = 0; index < 990; index++) recorder.recordMillis(2);
    for (let index = 0; index < 10; index++) recorder.recordMillis(500);
    const summary = recorder.summary();
    expectWithinPrecision(summary.p99, 2);
    expectWithinPrecision(summary.p999, 500);
    expect(summary.max).toBe(500);
    expectWithinPrecision(summary.mean, (990 * 2 + 10 * 500) / 1000);
  });

  it('counts what it cannot represent at the nearest bound instead of dropping it', () => {
    const recorder = createLatencyRecorder();
    // A negative latency (the clocks of two processes) and one past ten minutes.
    recorder.recordMillis(-5);
    recorder.recordMillis(11 * 60_000);
    const summary = recorder.summary();
    expect(summary.count).toBe(2);
    expect(summary.p50).toBe(0.001);
    expect(summary.max).toBe(600_000);
  });
});
