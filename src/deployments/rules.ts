/**
 * The automatic rollback rules of one canary: its error rate, p99 inference latency and positive-label rate
 * over a sliding window, judged against the configured limits once the window holds enough predictions.
 * Pure and incremental: fed once per batch with that batch's counts and the latency of each inference call,
 * with the time passed in (so tests control it), in bounded memory whatever the traffic.
 *
 * The window is a ring of time slots (SLOTS per window), each holding its counts and a latency histogram,
 * with running totals across the ring; a slot leaving the window is subtracted from the totals. A sample is
 * thus remembered for between (SLOTS - 1) / SLOTS of the window and the whole window. The histogram's
 * buckets grow geometrically (each bound LATENCY_GROWTH times the previous) and one bound is the p99 limit
 * itself, so the reported p99 is at most 4% above the true one and is above the limit exactly when the
 * true p99 is.
 */
import type { Config } from '../config/index.js';

export interface RollbackLimits {
  readonly windowMs: number;
  /** Predictions the window must hold before it is judged. */
  readonly minSamples: number;
  readonly maxErrorRate: number;
  readonly maxP99Ms: number;
  /** 1 = no limit (a rate cannot exceed it). */
  readonly maxPositiveRate: number;
}

type ExperimentSettings = Pick<
  Config['experiments'],
  'windowMs' | 'rollbackMinSamples' | 'rollbackMaxErrorRate' | 'rollbackMaxP99Ms' | 'rollbackMaxPositiveRate'
>;

export const rollbackLimits = (experiments: ExperimentSettings): RollbackLimits => ({
  windowMs: experiments.windowMs,
  minSamples: experiments.rollbackMinSamples,
  maxErrorRate: experiments.rollbackMaxErrorRate,
  maxP99Ms: experiments.rollbackMaxP99Ms,
  maxPositiveRate: experiments.rollbackMaxPositiveRate,
});

/** What one batch's rows routed to the canary came to. */
export interface CanaryBatch {
  /** Rows the canary scored. */
  scored: number;
  /** Rows whose inference call failed. */
  errors: number;
  /** Rows whose inference call missed its deadline. */
  timeouts: number;
  /** Scored rows labelled positive (score at or above the canary's threshold). */
  positives: number;
  /** How long each of the batch's inference calls on the canary took, in ms. */
  latenciesMs: ArrayLike<number>;
}

/** The window's figures; a type (not an interface) so that it fits DeploymentState's `figures` record. */
export type WindowFigures = {
  windowMs: number;
  /** Rows routed to the canary: scored, failed or timed out. Judged once it reaches minSamples. */
  predictions: number;
  errors: number;
  timeouts: number;
  positives: number;
  inferenceCalls: number;
  /** (errors + timeouts) / predictions. */
  errorRate: number;
  /** Of the inference calls, rounded up to the histogram's resolution; 0 without calls. */
  p99Ms: number;
  /** positives / scored rows; 0 with none scored. */
  positiveRate: number;
};

/** The figures an automatic rollback is decided on: the window's and the limits it broke or kept. */
export type RollbackFigures = WindowFigures & {
  minSamples: number;
  maxErrorRate: number;
  maxP99Ms: number;
  maxPositiveRate: number;
};

export type RollbackRule = 'error-rate' | 'p99-latency' | 'positive-rate';

export type CanaryVerdict =
  | { status: 'not-enough-samples'; figures: WindowFigures }
  | { status: 'ok'; figures: WindowFigures }
  | { status: 'rollback'; figures: RollbackFigures; broken: RollbackRule[]; reason: string };

export interface CanaryRules {
  readonly limits: RollbackLimits;
  record(now: number, batch: CanaryBatch): void;
  verdict(now: number): CanaryVerdict;
}

const SLOTS = 20;
/** Inference calls the window needs before its p99 latency is judged. */
export const MIN_LATENCY_CALLS = 20;
const LATENCY_GROWTH = 1.04;
const LOG_GROWTH = Math.log(LATENCY_GROWTH);
// The histogram's range: below the lowest bound a latency counts as that bound, above the highest as it.
const LOWEST_LATENCY_MS = 0.01;
const HIGHEST_LATENCY_MS = 3_600_000; // one hour

// Counters per slot, at these offsets.
const SCORED = 0;
const ERRORS = 1;
const TIMEOUTS = 2;
const POSITIVES = 3;
const CALLS = 4;
const COUNTERS = 5;

export function createCanaryRules(limits: RollbackLimits): CanaryRules {
  const slotMs = limits.windowMs / SLOTS;
  // Bucket i holds latencies in (maxP99Ms * GROWTH^(i - 1 - limitBucket), maxP99Ms * GROWTH^(i - limitBucket)].
  const limitBucket = Math.ceil(Math.log(limits.maxP99Ms / LOWEST_LATENCY_MS) / LOG_GROWTH);
  const buckets = limitBucket + Math.ceil(Math.log(HIGHEST_LATENCY_MS / limits.maxP99Ms) / LOG_GROWTH) + 1;
  const slotCounters = new Float64Array(SLOTS * COUNTERS);
  const slotLatencies = new Uint32Array(SLOTS * buckets);
  const counters = new Float64Array(COUNTERS);
  const latencies = new Uint32Array(buckets);
  let currentEpoch = Number.NEGATIVE_INFINITY;

  const latencyBucket = (ms: number): number => {
    const bucket = Math.ceil(Math.log(ms / limits.maxP99Ms) / LOG_GROWTH) + limitBucket;
    return bucket > 0 ? Math.min(bucket, buckets - 1) : 0; // NaN and 0 ms land in the lowest bucket
  };
  const bucketBound = (bucket: number): number => limits.maxP99Ms * LATENCY_GROWTH ** (bucket - limitBucket);

  /** Moves the window's end to `now`'s slot, forgetting the slots it leaves behind; time never goes back. */
  const advance = (now: number): number => {
    const epoch = Math.floor(now / slotMs);
    for (let expired = Math.max(currentEpoch + 1, epoch - SLOTS + 1); expired <= epoch; expired++) {
      const slot = ((expired % SLOTS) + SLOTS) % SLOTS;
      for (let counter = 0; counter < COUNTERS; counter++) {
        counters[counter]! -= slotCounters[slot * COUNTERS + counter]!;
        slotCounters[slot * COUNTERS + counter] = 0;
      }
      for (let bucket = 0; bucket < buckets; bucket++)
        latencies[bucket]! -= slotLatencies[slot * buckets + bucket]!;
      slotLatencies.fill(0, slot * buckets, (slot + 1) * buckets);
    }
    currentEpoch = Math.max(currentEpoch, epoch);
    return ((currentEpoch % SLOTS) + SLOTS) % SLOTS;
  };

  const count = (slot: number, counter: number, value: number) => {
    slotCounters[slot * COUNTERS + counter]! += value;
    counters[counter]! += value;
  };

  const p99 = (calls: number): number => {
    if (calls === 0) return 0;
    const rank = Math.ceil(calls * 0.99); // the nearest rank
    let seen = 0;
    for (let bucket = 0; bucket < buckets; bucket++) {
      seen += latencies[bucket]!;
      if (seen >= rank) return bucketBound(bucket);
    }
    return bucketBound(buckets - 1);
  };

  const figures = (): WindowFigures => {
    const scored = counters[SCORED]!;
    const errors = counters[ERRORS]!;
    const timeouts = counters[TIMEOUTS]!;
    const positives = counters[POSITIVES]!;
    const predictions = scored + errors + timeouts;
    return {
      windowMs: limits.windowMs,
      predictions,
      errors,
      timeouts,
      positives,
      inferenceCalls: counters[CALLS]!,
      errorRate: predictions > 0 ? (errors + timeouts) / predictions : 0,
      p99Ms: p99(counters[CALLS]!),
      positiveRate: scored > 0 ? positives / scored : 0,
    };
  };

  return {
    limits,

    record(now, batch) {
      const slot = advance(now);
      count(slot, SCORED, batch.scored);
      count(slot, ERRORS, batch.errors);
      count(slot, TIMEOUTS, batch.timeouts);
      count(slot, POSITIVES, batch.positives);
      count(slot, CALLS, batch.latenciesMs.length);
      for (let call = 0; call < batch.latenciesMs.length; call++) {
        const bucket = latencyBucket(batch.latenciesMs[call]!);
        slotLatencies[slot * buckets + bucket]! += 1;
        latencies[bucket]! += 1;
      }
    },

    verdict(now) {
      advance(now);
      const window = figures();
      if (window.predictions < limits.minSamples) return { status: 'not-enough-samples', figures: window };
      const broken = brokenRules(window, limits);
      if (broken.length === 0) return { status: 'ok', figures: window };
      return {
        status: 'rollback',
        figures: {
          ...window,
          minSamples: limits.minSamples,
          maxErrorRate: limits.maxErrorRate,
          maxP99Ms: limits.maxP99Ms,
          maxPositiveRate: limits.maxPositiveRate,
        },
        broken,
        reason: broken.map((rule) => describeBreach(rule, window, limits)).join('; '),
      };
    },
  };
}

function brokenRules(window: WindowFigures, limits: RollbackLimits): RollbackRule[] {
  const broken: RollbackRule[] = [];
  if (window.errorRate > limits.maxErrorRate) broken.push('error-rate');
  // A p99 of a handful of calls is its maximum: one call queued behind a burst of champion rows would
  // condemn a healthy canary. The latency rule waits for enough calls to mean something.
  if (window.inferenceCalls >= MIN_LATENCY_CALLS && window.p99Ms > limits.maxP99Ms)
    broken.push('p99-latency');
  if (window.positiveRate > limits.maxPositiveRate) broken.push('positive-rate');
  return broken;
}

const counts = new Intl.NumberFormat('en-US');
const percents = new Intl.NumberFormat('en-US', { style: 'percent', maximumSignificantDigits: 3 });
const milliseconds = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 3 });

const counted = (count: number, noun: string): string =>
  `${counts.format(count)} ${noun}${count === 1 ? '' : 's'}`;

/** "error rate 4.2% over the last 60 s (1,310 predictions) exceeds 1%", and the like for the other rules. */
function describeBreach(rule: RollbackRule, window: WindowFigures, limits: RollbackLimits): string {
  const over = `over the last ${counts.format(window.windowMs / 1000)} s`;
  switch (rule) {
    case 'error-rate':
      return `error rate ${percents.format(window.errorRate)} ${over} (${counted(window.predictions, 'prediction')}) exceeds ${percents.format(limits.maxErrorRate)}`;
    case 'p99-latency':
      return `p99 inference latency ${milliseconds.format(window.p99Ms)} ms ${over} (${counted(window.inferenceCalls, 'inference call')}) exceeds ${counts.format(limits.maxP99Ms)} ms`;
    case 'positive-rate': {
      const scored = window.predictions - window.errors - window.timeouts;
      return `positive rate ${percents.format(window.positiveRate)} ${over} (${counted(scored, 'scored prediction')}) exceeds ${percents.format(limits.maxPositiveRate)}`;
    }
  }
}
