import { describe, expect, it } from 'vitest';
import { fixedRateSchedule, rampSchedule, type SendSchedule } from '../../loadtests/lib/schedule.js';

/** Every event is due exactly at its own scheduled time, not a rounding step before or after it. */
function expectDueMatchesScheduled(schedule: SendSchedule): void {
  let previous = Number.NEGATIVE_INFINITY;
  for (let sequence = 0; sequence < schedule.total; sequence++) {
    const at = schedule.scheduledAtMs(sequence);
    if (!(at > previous)) throw new Error(`event ${sequence} at ${at} ms is not after ${previous} ms`);
    const justBefore = (previous + at) / 2;
    if (schedule.dueBy(at) !== sequence + 1 || (sequence > 0 && schedule.dueBy(justBefore) !== sequence)) {
      throw new Error(
        `event ${sequence} at ${at} ms: dueBy(at) = ${schedule.dueBy(at)}, dueBy(before) = ${schedule.dueBy(justBefore)}`,
      );
    }
    previous = at;
  }
}

describe('fixed-rate schedule', () => {
  it('counts the events of the run and of its warm-up as the generator always has', () => {
    const schedule = fixedRateSchedule(12_345, { warmupSeconds: 3, measureSeconds: 10 });
    expect(schedule.total).toBe(Math.ceil(12_345 * 13));
    expect(schedule.warmupEvents).toBe(Math.ceil(12_345 * 3));
    expect(schedule.measuredRate).toBe(12_345);
  });

  it('schedules event i at i / rate', () => {
    const schedule = fixedRateSchedule(1_000, { warmupSeconds: 1, measureSeconds: 2 });
    expect(schedule.scheduledAtMs(0)).toBe(0);
    expect(schedule.scheduledAtMs(1)).toBe(1);
    expect(schedule.scheduledAtMs(2_500)).toBe(2_500);
  });

  it('makes each event due at its scheduled time, for rates with inexact intervals too', () => {
    for (const rate of [1_000, 3, 7, 333, 12_345]) {
      expectDueMatchesScheduled(fixedRateSchedule(rate, { warmupSeconds: 1, measureSeconds: 2 }));
    }
  });

  it('has nothing due before the start and everything due after the end', () => {
    const schedule = fixedRateSchedule(500, { warmupSeconds: 1, measureSeconds: 1 });
    expect(schedule.dueBy(-1)).toBe(0);
    expect(schedule.dueBy(0)).toBe(1);
    expect(schedule.dueBy(2_000)).toBe(schedule.total);
    expect(schedule.dueBy(1e9)).toBe(schedule.total);
  });

  it('offers its rate until the run ends, then nothing', () => {
    const schedule = fixedRateSchedule(500, { warmupSeconds: 1, measureSeconds: 1 });
    expect(schedule.rateAt(0)).toBe(500);
    expect(schedule.rateAt(1_999)).toBe(500);
    expect(schedule.rateAt(2_000)).toBe(0);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => fixedRateSchedule(0, { warmupSeconds: 1, measureSeconds: 1 })).toThrow(/positive/);
    expect(() => fixedRateSchedule(Number.NaN, { warmupSeconds: 1, measureSeconds: 1 })).toThrow(/positive/);
  });
});

describe('ramp schedule', () => {
  const window = { warmupSeconds: 2, measureSeconds: 20 };
  const rates = { fromRate: 2_000, toRate: 40_000 };
  const schedule = rampSchedule(rates, window);
  /** The events offered by `seconds`, integrated by hand: fromRate throughout, plus the ramp's triangle. */
  const offeredBy = (seconds: number) => {
    const ramped = Math.max(0, seconds - window.warmupSeconds);
    return rates.fromRate * seconds + ((rates.toRate - rates.fromRate) * ramped * ramped) / (2 * 20);
  };

  it('holds as many events as the area under the rate', () => {
    // 2 s at 2,000/s, then 20 s averaging 21,000/s.
    expect(schedule.total).toBe(4_000 + 420_000);
    expect(schedule.warmupEvents).toBe(4_000);
    expect(schedule.measuredRate).toBe(21_000);
  });

  it('schedules each event where the integral of the rate reaches its sequence number', () => {
    for (const sequence of [0, 1, 3_999, 4_000, 4_001, 100_000, 250_000, schedule.total - 1]) {
      expect(offeredBy(schedule.scheduledAtMs(sequence) / 1000)).toBeCloseTo(sequence, 6);
    }
    expect(schedule.scheduledAtMs(4_000)).toBeCloseTo(2_000, 9);
    expect(schedule.scheduledAtMs(schedule.total - 1)).toBeLessThan(22_000);
  });

  it('makes each event due at its scheduled time', () => {
    expectDueMatchesScheduled(schedule);
  });

  it('offers what the rate promises over any stretch of the ramp', () => {
    // 10 s to 12 s into the run: the rate runs from 17,200/s to 21,000/s, 38,200 events.
    expect(schedule.dueBy(12_000) - schedule.dueBy(10_000)).toBeGreaterThanOrEqual(38_199);
    expect(schedule.dueBy(12_000) - schedule.dueBy(10_000)).toBeLessThanOrEqual(38_201);
  });

  it('starts at fromRate, reaches toRate at the end, then stops', () => {
    expect(schedule.rateAt(0)).toBe(2_000);
    expect(schedule.rateAt(2_000)).toBe(2_000);
    expect(schedule.rateAt(12_000)).toBe(21_000);
    expect(schedule.rateAt(21_999)).toBeCloseTo(40_000, -1);
    expect(schedule.rateAt(22_000)).toBe(0);
  });

  it('is the fixed-rate schedule when fromRate equals toRate', () => {
    const flat = rampSchedule({ fromRate: 3_000, toRate: 3_000 }, window);
    const fixed = fixedRateSchedule(3_000, window);
    expect(flat.total).toBe(fixed.total);
    expect(flat.warmupEvents).toBe(fixed.warmupEvents);
    for (const sequence of [0, 5_999, 6_000, 6_001, 40_000, fixed.total - 1]) {
      expect(flat.scheduledAtMs(sequence)).toBeCloseTo(fixed.scheduledAtMs(sequence), 6);
    }
    expectDueMatchesScheduled(flat);
  });

  it('ramps down as well as up', () => {
    const down = rampSchedule({ fromRate: 10_000, toRate: 1_000 }, window);
    expect(down.total).toBe(20_000 + 110_000);
    expect(down.rateAt(21_999)).toBeCloseTo(1_000, -1);
    expectDueMatchesScheduled(down);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => rampSchedule({ fromRate: 0, toRate: 1_000 }, window)).toThrow(/fromRate/);
    expect(() => rampSchedule({ fromRate: 1_000, toRate: -1 }, window)).toThrow(/toRate/);
  });
});
