import { describe, expect, it } from 'vitest';
import type { OpenLoopResult } from '../../loadtests/lib/open-loop.js';
import { type MaxRateSearch, type SearchStep, sustained } from '../../loadtests/lib/scenarios.js';
import { harnessBound, verdict } from '../../loadtests/report.js';

const summary = { count: 1, p50: 1, p90: 1, p99: 1, p999: 1, max: 1, mean: 1 };
const heldRun: OpenLoopResult = {
  offeredRate: 10_000,
  sendRate: 9_990,
  receiveRate: 9_980,
  scheduled: 100_000,
  sendErrors: 0,
  unreceived: 0,
  latencyMs: summary,
  lagGrowthSeconds: 0.01,
  lagAtEnd: 400,
  lagSamples: [],
  intervals: [],
};

describe('sustained', () => {
  it('holds a run that kept to the schedule with a flat, small lag', () => {
    expect(sustained(heldRun)).toBe(true);
  });

  it('fails a run with send errors', () => {
    expect(sustained({ ...heldRun, sendErrors: 1 })).toBe(false);
  });

  it('fails a run whose generator fell more than 5% behind', () => {
    expect(sustained({ ...heldRun, sendRate: 9_400 })).toBe(false);
  });

  it('fails a run whose lag grew by a quarter of a second of traffic or more', () => {
    expect(sustained({ ...heldRun, lagGrowthSeconds: 0.24 })).toBe(true);
    expect(sustained({ ...heldRun, lagGrowthSeconds: 0.25 })).toBe(false);
  });

  it('fails a run that ended a second of traffic behind, flat or not', () => {
    expect(sustained({ ...heldRun, lagAtEnd: 9_999 })).toBe(true);
    expect(sustained({ ...heldRun, lagAtEnd: 10_000 })).toBe(false);
  });
});

function search(maxRate: number, steps: Pick<SearchStep, 'rate' | 'sustained' | 'generatorLimited'>[]) {
  const fullSteps = steps.map((step) => ({
    ...step,
    lagGrowthSeconds: 0,
    lagAtEnd: 0,
    p99Ms: 1,
    cpuMicrosPerOutput: 1,
  }));
  return {
    target: 'service',
    maxRate,
    verified: true,
    lowerBound: 1_000,
    upperBound: 50_000,
    steps: fullSteps,
  } satisfies MaxRateSearch;
}

describe('harnessBound', () => {
  it('is a lower bound when every probe held: the search never found the limit', () => {
    expect(
      harnessBound(
        search(40_000, [
          { rate: 30_000, sustained: true, generatorLimited: false },
          { rate: 40_000, sustained: true, generatorLimited: false },
        ]),
      ),
    ).toBe(true);
  });

  it('is a lower bound when the probe above the maximum failed because the generator fell behind', () => {
    expect(
      harnessBound(
        search(30_000, [
          { rate: 30_000, sustained: true, generatorLimited: false },
          { rate: 40_000, sustained: false, generatorLimited: true },
        ]),
      ),
    ).toBe(true);
  });

  it('is the measured limit when the target itself fell behind above the maximum', () => {
    expect(
      harnessBound(
        search(30_000, [
          { rate: 30_000, sustained: true, generatorLimited: false },
          { rate: 40_000, sustained: false, generatorLimited: false },
          { rate: 20_000, sustained: false, generatorLimited: true },
        ]),
      ),
    ).toBe(false);
  });
});

describe('verdict', () => {
  it('says met, not met, or not measured', () => {
    expect(verdict(true)).toBe('met');
    expect(verdict(false)).toBe('**not met**');
    expect(verdict(undefined)).toBe('not measured');
  });
});
