/** How BENCHMARKS.md writes numbers, shared by the report's sections. */
import type { LatencySummary } from './latency.js';
import { type DrainRun, harnessBound, type MaxRateSearch } from './scenarios.js';

export const integer = (value: number) => Math.round(value).toLocaleString('en-US');
export const rate = (value: number) => `${integer(value)}/s`;
export const ms = (value: number) =>
  value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
export const micros = (value: number) => `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} µs`;
export const signedMicros = (value: number) => `${value >= 0 ? '+' : '−'}${micros(Math.abs(value))}`;
export const ratio = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : 'n/a');
export const percent = (value: number) => `${(value * 100).toFixed(1)}%`;
export const sustainedRate = (search: MaxRateSearch) =>
  `${harnessBound(search) ? '≥ ' : ''}${rate(search.maxRate)}${search.verified ? '' : ' (unverified)'}`;
export const verdict = (met: boolean | undefined) =>
  met === undefined ? 'not measured' : met ? 'met' : '**not met**';

export function latencyCells(summary: LatencySummary): string {
  return `${ms(summary.p50)} | ${ms(summary.p99)} | ${ms(summary.p999)} | ${ms(summary.max)}`;
}

/** "32,959/s (39,211; stalled at 1,200 of 200,000)": the median over the drains that caught up, then each. */
export function drainRates(medianRate: number | null, drains: readonly DrainRun[]): string {
  const cells = drains.map((drain) =>
    drain.completed
      ? integer(drain.rate)
      : `${drain.stalled ? 'stalled' : 'timed out'} at ${integer(drain.outputs)} of ${integer(drain.backlog)}`,
  );
  return `${medianRate === null ? 'none caught up' : rate(medianRate)} (${cells.join('; ')})`;
}
