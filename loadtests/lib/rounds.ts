/**
 * What the benchmarks comparing variants in alternating rounds of one run share (lib/shadow.ts,
 * lib/registry-drain.ts): the order within a round, the machine's load when a run started, medians over
 * the rounds, and the line a drain leaves on the terminal.
 */
import { loadavg } from 'node:os';
import type { DrainRun } from './scenarios.js';

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/**
 * The machine's 1-minute load average when a run started. Others share this machine: a figure taken at a
 * load well above its 2 cores says so beside it.
 */
export const loadAverage = () => Math.round(loadavg()[0]! * 100) / 100;

/** The first variant first in odd rounds, second in even ones, so neither always runs on a warmer broker. */
export const alternate = <T>(round: number, [first, second]: readonly [T, T]): T[] =>
  round % 2 === 1 ? [first, second] : [second, first];

/** Round r starts with variant r mod n and keeps their order, so no variant always goes first. */
export const rotate = <T>(round: number, variants: readonly T[]): T[] =>
  variants.map((_, index) => variants[(index + round - 1) % variants.length]!);

/** How a drain ended, for the terminal: its rate and CPU per record, or how far it got. */
export function drainOutcome(drain: DrainRun): string {
  if (drain.completed)
    return `drained at ${drain.rate.toFixed(0)}/s, ${drain.stats.cpuMicrosPerOutput.toFixed(1)} µs CPU per record`;
  if (drain.drainedBeforeSettling)
    return `drained all ${drain.backlog} before its group settled: nothing measured (a larger backlog would be)`;
  return `${drain.stalled ? 'stalled' : 'ran out of time'} after ${drain.outputs} of ${drain.backlog}`;
}

export const medianOrNull = (values: readonly number[]) => (values.length > 0 ? median(values) : null);

/** The figures every alternating-rounds benchmark reports of one variant's completed drains. */
export function drainMedians(done: readonly DrainRun[]) {
  const mainThread = done.map((drain) => drain.stats.mainThreadCpuMicrosPerOutput);
  return {
    drainRates: done.map((drain) => drain.rate),
    medianDrainRate: medianOrNull(done.map((drain) => drain.rate)),
    medianCpuMicrosPerRecord: medianOrNull(done.map((drain) => drain.stats.cpuMicrosPerOutput)),
    medianMainThreadCpuMicrosPerRecord: mainThread.every((value) => value !== undefined)
      ? medianOrNull(mainThread as number[])
      : null,
    medianCoresUsed: medianOrNull(done.map((drain) => drain.stats.coresUsed)),
  };
}
