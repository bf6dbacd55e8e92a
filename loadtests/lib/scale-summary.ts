/**
 * The scale-out benchmark's figures reduced to what the report says: per instance count, medians over the
 * rounds and their ratios to one instance within the run; per delivery mode, what the membership changes
 * cost and whether anything was lost or (exactly-once) duplicated; per replacement of a rolling restart,
 * what it cost. Ratios only: the machine is shared, so absolute figures move between runs.
 */
import { median } from './rounds.js';
import type { ScaleDrain } from './scale-drain.js';
import type { DeliveryMode } from './scale-instances.js';
import type { MembershipRun } from './scale-membership.js';
import type { ScaleOpenLoop } from './scale-steady.js';

export interface ScaleResult {
  model: string;
  partitions: number;
  rounds: number;
  /** The open-loop rate of the steady windows, the membership changes and the rolling restart. */
  rate: number;
  rateSource: string;
  /** The machine's 1-minute load average when the run started and when it ended. */
  loadAverage: { start: number; end: number };
  drains: ScaleDrain[];
  openLoops: ScaleOpenLoop[];
  membership: MembershipRun[];
  rolling: MembershipRun;
}

export interface CountSummary {
  instances: number;
  /** Median over the drains that caught up; null when none did. */
  drainRate: number | null;
  drainCpuMicrosPerRecord: number | null;
  drainCoresUsed: number | null;
  /** Records one CPU-second of the instances buys, draining. */
  recordsPerCpuSecond: number | null;
  openLoopP50Ms: number;
  openLoopP99Ms: number;
  openLoopCpuMicrosPerRecord: number;
  openLoopCoresUsed: number;
  /** Open-loop windows whose lag stayed flat, of those run. */
  held: number;
  windows: number;
  /** The same figures over one instance's, within this run. */
  ratios: {
    drainRate: number | null;
    drainCpuPerRecord: number | null;
    openLoopP99: number;
    openLoopCpuPerRecord: number;
  };
}

export interface DeliverySummary {
  mode: DeliveryMode;
  sent: number;
  lost: number;
  duplicates: number;
  /** The reader got to the output's end offsets, so the counts are complete. */
  complete: boolean;
  /** 0 lost; for exactly-once also 0 duplicates as a read_committed reader sees them. */
  met: boolean;
}

export interface RollingSummary {
  replacements: number;
  rebalances: number[];
  /** Per replacement: its signal to every partition assigned among the new members. */
  assignedSeconds: (number | null)[];
  /** Per replacement: the new instance's start-up, part of the above. */
  startupSeconds: number[];
  /** Per replacement: the longest time no prediction arrived at all. */
  longestOutputGapMs: number[];
  totalAssignedSeconds: number;
  delivery: DeliverySummary;
}

export interface ScaleSummary {
  counts: CountSummary[];
  delivery: DeliverySummary[];
  /** Every membership run and the rolling restart lost nothing, and exactly-once duplicated nothing. */
  deliveryMet: boolean;
  rolling: RollingSummary;
}

const medianOrNull = (values: readonly number[]) => (values.length > 0 ? median(values) : null);
const over = (value: number | null, base: number | null) =>
  value === null || base === null || base === 0 ? null : value / base;

function countSummary(result: ScaleResult, instances: number): Omit<CountSummary, 'ratios'> {
  const drains = result.drains.filter((drain) => drain.instances === instances && drain.completed);
  const windows = result.openLoops.filter((run) => run.instances === instances);
  const drainCpu = medianOrNull(drains.map((drain) => drain.cpuMicrosPerRecord));
  return {
    instances,
    drainRate: medianOrNull(drains.map((drain) => drain.rate)),
    drainCpuMicrosPerRecord: drainCpu,
    drainCoresUsed: medianOrNull(drains.map((drain) => drain.coresUsed)),
    recordsPerCpuSecond: drainCpu === null || drainCpu === 0 ? null : 1e6 / drainCpu,
    openLoopP50Ms: median(windows.map((run) => run.latencyMs.p50)),
    openLoopP99Ms: median(windows.map((run) => run.latencyMs.p99)),
    openLoopCpuMicrosPerRecord: median(windows.map((run) => run.cpuMicrosPerRecord)),
    openLoopCoresUsed: median(windows.map((run) => run.coresUsed)),
    held: windows.filter((run) => run.sustained).length,
    windows: windows.length,
  };
}

export function deliverySummary(run: MembershipRun): DeliverySummary {
  const { audit } = run;
  return {
    mode: run.mode,
    sent: audit.sent,
    lost: audit.lost,
    duplicates: audit.duplicates,
    complete: audit.readToEnd,
    met: audit.readToEnd && audit.lost === 0 && (run.mode === 'at-least-once' || audit.duplicates === 0),
  };
}

function rollingSummary(run: MembershipRun): RollingSummary {
  const { changes } = run;
  const assignedSeconds = changes.map((entry) => entry.assignedSeconds);
  return {
    replacements: changes.length,
    rebalances: changes.map((entry) => entry.rebalances),
    assignedSeconds,
    startupSeconds: changes.map((entry) => entry.startupSeconds ?? 0),
    longestOutputGapMs: changes.map((entry) => entry.longestOutputGapMs),
    totalAssignedSeconds: assignedSeconds.reduce<number>((sum, seconds) => sum + (seconds ?? 0), 0),
    delivery: deliverySummary(run),
  };
}

export function summarizeScale(result: ScaleResult): ScaleSummary {
  const counts = [...new Set(result.drains.map((drain) => drain.instances))].sort((a, b) => a - b);
  const raw = counts.map((instances) => countSummary(result, instances));
  const one = raw.find((entry) => entry.instances === 1);
  const delivery = result.membership.map(deliverySummary);
  const rolling = rollingSummary(result.rolling);
  return {
    counts: raw.map((entry) => ({
      ...entry,
      ratios: {
        drainRate: over(entry.drainRate, one?.drainRate ?? null),
        drainCpuPerRecord: over(entry.drainCpuMicrosPerRecord, one?.drainCpuMicrosPerRecord ?? null),
        openLoopP99: one ? entry.openLoopP99Ms / one.openLoopP99Ms : Number.NaN,
        openLoopCpuPerRecord: one
          ? entry.openLoopCpuMicrosPerRecord / one.openLoopCpuMicrosPerRecord
          : Number.NaN,
      },
    })),
    delivery,
    deliveryMet: delivery.every((entry) => entry.met) && rolling.delivery.met,
    rolling,
  };
}
