import { describe, expect, it } from 'vitest';
import { type LoopsResult, summarizeLoops } from '../../loadtests/lib/loops-drain.js';
import { drainOutcome } from '../../loadtests/lib/rounds.js';
import type { DrainRun } from '../../loadtests/lib/scenarios.js';

const stats = {
  outputs: 80_000,
  seconds: 1,
  cpuMicrosPerOutput: 12.34,
  coresUsed: 1.5,
  eventLoopUtilization: 0.9,
  eventLoopDelayMs: { p50: 0, p99: 1, max: 2 },
  rssMiB: 400,
  inferenceBatches: 10,
  meanInferenceBatchRows: 100,
  cacheHits: 0,
  cacheMisses: 80_000,
  shadowRows: { ok: 0, timeout: 0, error: 0, shed: 0 },
};

const drain = (overrides: Partial<DrainRun>): DrainRun => ({
  target: 'service-loops',
  stream: 'unique',
  backlog: 80_000,
  rate: 100_000,
  measuredFrom: 'settled-group',
  outputs: 80_000,
  seconds: 0.8,
  completed: true,
  stalled: false,
  machineCoresBusy: 1.9,
  stats,
  ...overrides,
});

describe('drain outcomes', () => {
  it('gives the rate and CPU per record of a completed drain', () => {
    expect(drainOutcome(drain({}))).toBe('drained at 100000/s, 12.3 µs CPU per record');
  });

  it('says a drain that ended before its group settled measured nothing, and leaves it out of the figures', () => {
    const early = drain({ completed: false, drainedBeforeSettling: true, rate: 0, seconds: 0 });
    expect(drainOutcome(early)).toBe(
      'drained all 80000 before its group settled: nothing measured (a larger backlog would be)',
    );
    const result: LoopsResult = {
      quick: true,
      model: 'fraud-mlp',
      partitions: 6,
      autoLoops: 2,
      cpus: 2,
      backlog: 80_000,
      rounds: 1,
      drains: [
        { variant: 'one-loop', round: 1, loadAverage: 1, drain: drain({ rate: 90_000 }) },
        { variant: 'loops-auto', round: 1, loadAverage: 1, drain: early },
      ],
    };
    const summary = summarizeLoops(result);
    expect(summary.variants['one-loop'].medianDrainRate).toBe(90_000);
    expect(summary.variants['loops-auto'].medianDrainRate).toBeNull();
    expect(summary.autoVsOneLoop).toBeNull();
  });

  it('tells a stall from a drain that ran out of time', () => {
    expect(drainOutcome(drain({ completed: false, stalled: true, outputs: 5 }))).toBe(
      'stalled after 5 of 80000',
    );
    expect(drainOutcome(drain({ completed: false, outputs: 5 }))).toBe('ran out of time after 5 of 80000');
  });
});
