/**
 * When each event of an open-loop run is due: a fixed rate, or a linear ramp. A schedule is a pure
 * function of the elapsed time since the first scheduled send, so the generator and the latency consumer
 * agree on every event's scheduled time without sharing any state but t0.
 */

export interface SendSchedule {
  /** Events in the whole run, warm-up included. */
  readonly total: number;
  /** Events scheduled before the measured window, left out of the latency histogram. */
  readonly warmupEvents: number;
  /** Mean offered rate over the measured window, events per second. */
  readonly measuredRate: number;
  /** When event `sequence` is due, in milliseconds after the first scheduled send. */
  scheduledAtMs(sequence: number): number;
  /** How many events are due once `elapsedMs` have passed: those scheduled at or before it. */
  dueBy(elapsedMs: number): number;
  /** The offered rate at `elapsedMs`, events per second; 0 once the measured window is over. */
  rateAt(elapsedMs: number): number;
}

export interface ScheduleWindow {
  warmupSeconds: number;
  measureSeconds: number;
}

export interface RampRates {
  fromRate: number;
  toRate: number;
}

function requirePositive(name: string, rate: number): void {
  if (!(rate > 0) || !Number.isFinite(rate)) throw new Error(`${name} must be a positive rate, got ${rate}`);
}

/**
 * Turns the closed-form count of events due into the exact count of events whose scheduledAtMs is at or
 * before `elapsedMs`. The closed form and its inverse round differently, and an event counted as due one
 * tick before (or after) its own scheduled time would be sent early or measured from the wrong instant.
 */
function settleDue(
  estimate: number,
  elapsedMs: number,
  total: number,
  scheduledAtMs: (sequence: number) => number,
): number {
  let due = Math.min(total, Math.max(0, estimate));
  while (due < total && scheduledAtMs(due) <= elapsedMs) due += 1;
  while (due > 0 && scheduledAtMs(due - 1) > elapsedMs) due -= 1;
  return due;
}

/** Event i is due at i / rate seconds. */
export function fixedRateSchedule(ratePerSecond: number, window: ScheduleWindow): SendSchedule {
  requirePositive('ratePerSecond', ratePerSecond);
  const runSeconds = window.warmupSeconds + window.measureSeconds;
  const total = Math.ceil(ratePerSecond * runSeconds);
  const intervalMs = 1000 / ratePerSecond;
  const scheduledAtMs = (sequence: number) => sequence * intervalMs;
  return {
    total,
    warmupEvents: Math.ceil(ratePerSecond * window.warmupSeconds),
    measuredRate: ratePerSecond,
    scheduledAtMs,
    dueBy: (elapsedMs) => settleDue(Math.floor(elapsedMs / intervalMs) + 1, elapsedMs, total, scheduledAtMs),
    rateAt: (elapsedMs) => (elapsedMs < runSeconds * 1000 ? ratePerSecond : 0),
  };
}

/**
 * The warm-up runs at `fromRate`; over the measured window the rate then rises (or falls) linearly to
 * `toRate`. The events offered by time t are the integral of the rate, N(t); event i is due at the t
 * where N(t) = i, found by solving the quadratic exactly.
 */
export function rampSchedule({ fromRate, toRate }: RampRates, window: ScheduleWindow): SendSchedule {
  requirePositive('fromRate', fromRate);
  requirePositive('toRate', toRate);
  const { warmupSeconds, measureSeconds } = window;
  const warmupOffered = fromRate * warmupSeconds;
  // N(W + s) = fromRate·W + fromRate·s + acceleration·s², acceleration being half the slope of the rate.
  const acceleration = measureSeconds > 0 ? (toRate - fromRate) / (2 * measureSeconds) : 0;

  const offeredBy = (seconds: number): number => {
    if (seconds <= warmupSeconds) return fromRate * seconds;
    const ramped = Math.min(seconds, warmupSeconds + measureSeconds) - warmupSeconds;
    return warmupOffered + fromRate * ramped + acceleration * ramped * ramped;
  };
  const scheduledAtMs = (sequence: number): number => {
    if (sequence <= warmupOffered) return (sequence / fromRate) * 1000;
    const beyond = sequence - warmupOffered;
    // The root of acceleration·s² + fromRate·s − beyond = 0, written as 2c / (b + √(b² + 4ac)) rather than
    // (−b + √…) / 2a: no division by zero when fromRate === toRate, and no cancellation when it is close.
    const ramped = (2 * beyond) / (fromRate + Math.sqrt(fromRate * fromRate + 4 * acceleration * beyond));
    return (warmupSeconds + ramped) * 1000;
  };
  const total = Math.ceil(offeredBy(warmupSeconds + measureSeconds));
  return {
    total,
    warmupEvents: Math.ceil(warmupOffered),
    measuredRate: (fromRate + toRate) / 2,
    scheduledAtMs,
    dueBy: (elapsedMs) =>
      settleDue(Math.floor(offeredBy(elapsedMs / 1000)) + 1, elapsedMs, total, scheduledAtMs),
    rateAt: (elapsedMs) => {
      const ramped = elapsedMs / 1000 - warmupSeconds;
      if (ramped >= measureSeconds) return 0;
      if (ramped <= 0) return fromRate;
      return fromRate + ((toRate - fromRate) * ramped) / measureSeconds;
    },
  };
}
