/**
 * Reading a ramp: an open-loop run whose offered rate climbs, summarised per interval, and its knee, the
 * interval from which the target stopped keeping up with what it was offered.
 */
import type { LatencySummary } from './latency.js';
import type { IntervalSummary } from './open-loop.js';

/**
 * An interval fell behind when its outputs arrived more than this share below the rate offered in it:
 * the lag (events due minus outputs received) grew by more than that share of the interval's traffic.
 */
export const BEHIND_SHARE = 0.05;
/** One interval behind may be a pause the target caught up on afterwards; this many in a row is a trend. */
export const BEHIND_IN_A_ROW = 2;
/** Below this share of the offered rate the generator itself was behind its schedule. */
const MIN_SEND_SHARE = 0.95;

export interface RampPlan {
  fromRate: number;
  toRate: number;
  /** Seconds at fromRate before the ramp starts. */
  warmupSeconds: number;
  /** Seconds over which the rate climbs from fromRate to toRate. */
  rampSeconds: number;
}

export interface RampKnee {
  /** End of the first interval of the run that fell behind, in seconds since the first scheduled send. */
  seconds: number;
  offeredRate: number;
  receivedRate: number;
  /** Offered rate of the interval before the knee, the last one kept up with; null when there is none. */
  lastHeldRate: number | null;
  /** The generator sent under 95% of what was due in the knee's interval: the knee may be the harness's. */
  generatorBehind: boolean;
}

export type IntervalPhase = 'warm-up' | 'ramp' | 'after';

/**
 * Where an interval belongs, by its midpoint: the sampler closes intervals a few milliseconds late, so
 * their ends drift past the phase boundaries, and an interval counts where most of it lies.
 */
export function intervalPhases(intervals: readonly IntervalSummary[], plan: RampPlan): IntervalPhase[] {
  return intervals.map((interval, index) => {
    const middle = ((intervals[index - 1]?.seconds ?? 0) + interval.seconds) / 2;
    if (middle < plan.warmupSeconds) return 'warm-up';
    return middle <= plan.warmupSeconds + plan.rampSeconds ? 'ramp' : 'after';
  });
}

export function fellBehind(interval: IntervalSummary): boolean {
  return interval.receivedRate < (1 - BEHIND_SHARE) * interval.offeredRate;
}

/** The first ramp interval that starts BEHIND_IN_A_ROW intervals all falling behind; undefined if none does. */
export function findKnee(intervals: readonly IntervalSummary[], plan: RampPlan): RampKnee | undefined {
  const phases = intervalPhases(intervals, plan);
  const ramp = intervals.filter((_, index) => phases[index] === 'ramp');
  for (let index = 0; index + BEHIND_IN_A_ROW <= ramp.length; index++) {
    if (!ramp.slice(index, index + BEHIND_IN_A_ROW).every(fellBehind)) continue;
    const knee = ramp[index]!;
    return {
      seconds: knee.seconds,
      offeredRate: knee.offeredRate,
      receivedRate: knee.receivedRate,
      lastHeldRate: ramp[index - 1]?.offeredRate ?? null,
      generatorBehind: knee.sentRate < MIN_SEND_SHARE * knee.offeredRate,
    };
  }
  return undefined;
}

const integer = (value: number) => Math.round(value).toLocaleString('en-US');
const rate = (value: number) => `${integer(value)}/s`;
const ms = (value: number) =>
  value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);

function kneeSentence(plan: RampPlan, knee: RampKnee | undefined): string {
  if (!knee) {
    return (
      `**No knee**: no two intervals in a row fell more than ${BEHIND_SHARE * 100}% behind up to` +
      ` ${rate(plan.toRate)}; ramp higher with \`--to-rate\`.`
    );
  }
  const held =
    knee.lastHeldRate === null ? '' : `; the interval before, offered ${rate(knee.lastHeldRate)}, kept up`;
  const harness = knee.generatorBehind
    ? ' The generator itself sent under 95% of what was due in that interval, so this is a lower bound set' +
      ' by the harness, not the service.'
    : '';
  return (
    `**Knee at about ${rate(knee.offeredRate)} offered** (interval ending at ${knee.seconds.toFixed(1)} s):` +
    ` outputs arrived at ${rate(knee.receivedRate)}, and the received rate stayed more than` +
    ` ${BEHIND_SHARE * 100}% below the offered rate for ${BEHIND_IN_A_ROW} intervals running${held}.${harness}`
  );
}

export interface RampReport {
  plan: RampPlan;
  quick: boolean;
  intervals: readonly IntervalSummary[];
  knee: RampKnee | undefined;
  /** Over the whole ramp, outputs that never arrived counted as late as the end of the wait. */
  latencyMs: LatencySummary;
  unreceived: number;
}

export function rampMarkdown({ plan, quick, intervals, knee, latencyMs, unreceived }: RampReport): string {
  const phases = intervalPhases(intervals, plan);
  const rows = intervals.flatMap((interval, index) => {
    const phase = phases[index];
    if (phase === 'after') return [];
    const marker = interval.seconds === knee?.seconds ? ' **knee**' : phase === 'warm-up' ? ' (warm-up)' : '';
    const { latencyMs: latency } = interval;
    // Warm-up events are left out of the histograms, so the warm-up rows have no latency.
    const latencyCells = latency.count > 0 ? [latency.p50, latency.p99, latency.max].map(ms) : ['', '', ''];
    const cells = [
      `${interval.seconds.toFixed(1)} s${marker}`,
      rate(interval.offeredRate),
      rate(interval.sentRate),
      rate(interval.receivedRate),
      integer(interval.lag),
      ...latencyCells,
    ];
    return [`| ${cells.join(' | ')} |`];
  });
  return [
    '## Ramp: where the service falls behind',
    '',
    `The full service under an open-loop load at ${rate(plan.fromRate)} for ${plan.warmupSeconds} s, then rising` +
      ` linearly to ${rate(plan.toRate)} over ${plan.rampSeconds} s. Per interval: offered is what the schedule` +
      ' made due, sent what the generator handed to kafkajs, received the outputs that arrived; lag is events' +
      " due minus outputs received at the interval's end; latency (ms) runs from each event's scheduled send" +
      ' to its output, for the outputs that arrived in the interval.',
    ...(quick ? ['', '> A `--quick` run: a short ramp with coarse steps. Indicative only.'] : []),
    '',
    kneeSentence(plan, knee),
    '',
    '| end of interval | offered | sent | received | lag | p50 | p99 | max |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    `Over the whole ramp: p50 ${ms(latencyMs.p50)} ms, p99 ${ms(latencyMs.p99)} ms, max ${ms(latencyMs.max)} ms;` +
      ` ${integer(unreceived)} outputs never arrived (counted as late as the end of the wait). Past the knee` +
      ' the lag grows for as long as the ramp lasts, so these mostly measure how long the ramp ran on after it.',
    '',
  ].join('\n');
}
