/** A canary's automatic rollback rules over a sliding window, with time passed in. */
import { describe, expect, it } from 'vitest';
import {
  type CanaryBatch,
  createCanaryRules,
  MIN_LATENCY_CALLS,
  type RollbackLimits,
  rollbackLimits,
} from '../../src/deployments/rules.js';
import type { DeploymentState } from '../../src/deployments/state.js';

// The settings' defaults (src/config/schema.ts), with a positive-rate limit where a test needs one.
const DEFAULTS: RollbackLimits = {
  windowMs: 60_000,
  minSamples: 500,
  maxErrorRate: 0.01,
  maxP99Ms: 250,
  maxPositiveRate: 1,
};

/** A healthy batch: `rows` rows scored in calls of 20 ms, 5% of them positive. */
const healthy = (rows: number, overrides: Partial<CanaryBatch> = {}): CanaryBatch => ({
  scored: rows,
  errors: 0,
  timeouts: 0,
  positives: Math.round(rows * 0.05),
  latenciesMs: new Float64Array(Math.ceil(rows / 10)).fill(20),
  ...overrides,
});

describe('canary rollback rules', () => {
  it('judges nothing below minSamples predictions, however bad', () => {
    const rules = createCanaryRules(DEFAULTS);
    rules.record(0, healthy(0, { errors: 499, latenciesMs: [5_000] }));
    expect(rules.verdict(1_000)).toMatchObject({
      status: 'not-enough-samples',
      figures: { predictions: 499 },
    });
    rules.record(1_000, healthy(0, { timeouts: 1 }));
    expect(rules.verdict(1_000).status).toBe('rollback');
  });

  it('keeps a healthy canary', () => {
    const rules = createCanaryRules(DEFAULTS);
    for (let second = 0; second < 60; second++) rules.record(second * 1_000, healthy(100));
    const verdict = rules.verdict(59_999);
    expect(verdict).toMatchObject({
      status: 'ok',
      figures: { predictions: 6_000, inferenceCalls: 600, errorRate: 0, positiveRate: 0.05 },
    });
    expect(verdict.figures.p99Ms).toBeGreaterThanOrEqual(20);
    expect(verdict.figures.p99Ms).toBeLessThan(20 * 1.04);
  });

  it('rolls back on the error rate alone, errors and timeouts counted together, with the reason', () => {
    const rules = createCanaryRules(DEFAULTS);
    rules.record(10_000, healthy(1_255, { errors: 40, timeouts: 15 }));
    const verdict = rules.verdict(20_000);
    expect(verdict).toMatchObject({
      status: 'rollback',
      broken: ['error-rate'],
      reason: 'error rate 4.2% over the last 60 s (1,310 predictions) exceeds 1%',
      figures: {
        predictions: 1_310,
        errors: 40,
        timeouts: 15,
        errorRate: 55 / 1_310,
        windowMs: 60_000,
        minSamples: 500,
        maxErrorRate: 0.01,
        maxP99Ms: 250,
        maxPositiveRate: 1,
      },
    });
    if (verdict.status !== 'rollback') return;
    const onTheControlTopic: DeploymentState['figures'] = verdict.figures;
    expect(onTheControlTopic.errorRate).toBe(55 / 1_310);
  });

  it('rolls back on the p99 latency alone, exactly when more than 1% of calls exceed the limit', () => {
    const withSlowCalls = (slow: number) => {
      const rules = createCanaryRules(DEFAULTS);
      const latencies = new Float64Array(1_000).fill(20);
      latencies.fill(400, 0, slow);
      rules.record(0, healthy(5_000, { latenciesMs: latencies }));
      return rules.verdict(0);
    };
    expect(withSlowCalls(10)).toMatchObject({ status: 'ok', figures: { inferenceCalls: 1_000 } });
    const verdict = withSlowCalls(11);
    expect(verdict).toMatchObject({
      status: 'rollback',
      broken: ['p99-latency'],
      reason: 'p99 inference latency 400 ms over the last 60 s (1,000 inference calls) exceeds 250 ms',
    });
    expect(verdict.figures.p99Ms).toBeGreaterThanOrEqual(400);
    expect(verdict.figures.p99Ms).toBeLessThan(400 * 1.04);
  });

  it('rolls back on the positive rate alone, and never with the default limit of 1', () => {
    const allPositive = healthy(1_000, { positives: 1_000 });
    const unlimited = createCanaryRules(DEFAULTS);
    unlimited.record(0, allPositive);
    expect(unlimited.verdict(0)).toMatchObject({ status: 'ok', figures: { positiveRate: 1 } });

    const limited = createCanaryRules({ ...DEFAULTS, maxPositiveRate: 0.2 });
    limited.record(0, healthy(1_000, { positives: 375, errors: 10 }));
    expect(limited.verdict(0)).toMatchObject({
      status: 'rollback',
      broken: ['positive-rate'],
      reason: 'positive rate 37.5% over the last 60 s (1,000 scored predictions) exceeds 20%',
      figures: { positiveRate: 0.375, maxPositiveRate: 0.2 },
    });
  });

  it('names every rule broken, in one reason', () => {
    const rules = createCanaryRules({ ...DEFAULTS, maxPositiveRate: 0.5 });
    rules.record(0, {
      scored: 900,
      errors: 100,
      timeouts: 0,
      positives: 900,
      latenciesMs: Array.from({ length: MIN_LATENCY_CALLS }, () => 300),
    });
    expect(rules.verdict(0)).toMatchObject({
      status: 'rollback',
      broken: ['error-rate', 'p99-latency', 'positive-rate'],
      reason:
        'error rate 10% over the last 60 s (1,000 predictions) exceeds 1%; ' +
        'p99 inference latency 304 ms over the last 60 s (20 inference calls) exceeds 250 ms; ' +
        'positive rate 100% over the last 60 s (900 scored predictions) exceeds 50%',
    });
  });

  it('does not judge the latency of fewer than MIN_LATENCY_CALLS calls: a few slow calls are no p99', () => {
    const rules = createCanaryRules(DEFAULTS);
    rules.record(
      0,
      healthy(1_000, { latenciesMs: Array.from({ length: MIN_LATENCY_CALLS - 1 }, () => 5_000) }),
    );
    expect(rules.verdict(0)).toMatchObject({
      status: 'ok',
      figures: { inferenceCalls: MIN_LATENCY_CALLS - 1 },
    });
    rules.record(0, healthy(0, { latenciesMs: [5_000] }));
    expect(rules.verdict(0)).toMatchObject({ status: 'rollback', broken: ['p99-latency'] });
  });

  it('forgets failures once they leave the window', () => {
    const rules = createCanaryRules(DEFAULTS);
    rules.record(0, healthy(0, { errors: 600, latenciesMs: [1_000] }));
    rules.record(30_000, healthy(600));
    expect(rules.verdict(59_999)).toMatchObject({ status: 'rollback', figures: { errors: 600 } });
    expect(rules.verdict(60_000)).toMatchObject({ status: 'ok', figures: { predictions: 600, errors: 0 } });
    expect(rules.verdict(90_000)).toMatchObject({
      status: 'not-enough-samples',
      figures: { predictions: 0 },
    });
    // Batches recorded after a long silence start from an empty window.
    rules.record(3_600_000, healthy(500));
    expect(rules.verdict(3_600_000)).toMatchObject({ status: 'ok', figures: { predictions: 500 } });
  });

  it('remembers a sample for 57 to 60 s of a 60 s window: slots of windowMs / 20', () => {
    const rules = createCanaryRules(DEFAULTS);
    rules.record(2_999, healthy(500)); // the slot [0, 3 s)
    rules.record(3_000, healthy(400)); // the slot [3 s, 6 s)
    expect(rules.verdict(59_999).figures.predictions).toBe(900); // 57 s after the first batch: still in
    expect(rules.verdict(60_000).figures.predictions).toBe(400);
    expect(rules.verdict(62_999).figures.predictions).toBe(400); // 59.999 s after the second
    expect(rules.verdict(63_000).figures.predictions).toBe(0);
  });

  it('computes the p99 of a known distribution within the histogram resolution (4%)', () => {
    // 0.1, 0.2, ... 1000 ms: the nearest-rank p99 is the 9,900th value, 990 ms.
    const latencies = Float64Array.from({ length: 10_000 }, (_, index) => (index + 1) / 10);
    const p99With = (limits: RollbackLimits) => {
      const rules = createCanaryRules(limits);
      for (let batch = 0; batch < 10; batch++) {
        const calls = latencies.subarray(batch * 1_000, (batch + 1) * 1_000);
        rules.record(batch * 100, healthy(100, { latenciesMs: calls }));
      }
      return rules.verdict(1_000);
    };
    const overLimit = p99With(DEFAULTS);
    expect(overLimit).toMatchObject({ status: 'rollback', figures: { inferenceCalls: 10_000 } });
    expect(overLimit.figures.p99Ms).toBeGreaterThanOrEqual(990);
    expect(overLimit.figures.p99Ms).toBeLessThan(990 * 1.04);
    // The limit is a bucket bound, so a p99 just under it is never reported above it.
    const underLimit = p99With({ ...DEFAULTS, maxP99Ms: 1_000 });
    expect(underLimit.status).toBe('ok');
    expect(underLimit.figures.p99Ms).toBeGreaterThanOrEqual(990);
    expect(underLimit.figures.p99Ms).toBeLessThanOrEqual(1_000);
  });

  it('maps the experiments settings to limits', () => {
    expect(
      rollbackLimits({
        windowMs: 30_000,
        rollbackMinSamples: 100,
        rollbackMaxErrorRate: 0.02,
        rollbackMaxP99Ms: 120,
        rollbackMaxPositiveRate: 0.4,
      }),
    ).toEqual({ windowMs: 30_000, minSamples: 100, maxErrorRate: 0.02, maxP99Ms: 120, maxPositiveRate: 0.4 });
  });
});
