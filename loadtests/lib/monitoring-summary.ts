/**
 * The monitoring benchmark's figures and verdict, computed from the raw drains, so the report judges an
 * older results file by the current rules. Its part of BENCHMARKS.md is lib/monitoring-report.ts.
 */
import type { Config } from '../../src/config/index.js';
import type { MonitoringDrain, MonitoringMode } from './monitoring-drain.js';
import type { RunEnvironment } from './results.js';
import { drainMedians, median, medianOrNull } from './rounds.js';

/** Issue 12: computed off the hot path, monitoring costs at most 5% of the service's throughput. */
export const MONITORING_GOAL = { minThroughputRatio: 0.95 } as const;

export interface MonitoringResult {
  /** Written by writeResult; absent from a result built in memory. */
  environment?: RunEnvironment;
  quick: boolean;
  model: string;
  /** The model's features: the rows occlusion scores per alert. */
  modelFeatures: number;
  /** The score from which the model alerts (the manifest's alertThreshold, else its threshold). */
  alertThreshold: number;
  /** Explanation method of the model's reasons: occlusion (one extra inference call per alerted batch) or linear. */
  explanation: string;
  rounds: number;
  backlog: number;
  /** The monitoring settings of the drains with monitoring on, as the service resolved them. */
  setting: MonitoringFigures;
  drains: MonitoringDrain[];
}

export type MonitoringFigures = Pick<
  Config['monitoring'],
  'alerts' | 'drift' | 'reasonCodes' | 'driftWindowEvents' | 'driftWindowMs'
>;

export interface ModeSummary {
  mode: MonitoringMode;
  /** Rates of the drains that caught up, in round order. */
  drainRates: number[];
  /** Medians over the drains that caught up; null when none did. */
  medianDrainRate: number | null;
  medianCpuMicrosPerRecord: number | null;
  medianMainThreadCpuMicrosPerRecord: number | null;
  medianCoresUsed: number | null;
  medianEventLoopUtilization: number | null;
  /** Inference calls per 1,000 predictions: occlusion adds one per alerted batch. */
  medianInferenceCallsPerThousand: number | null;
  unfinishedDrains: number;
  uncleanStops: string[];
}

export interface MonitoringSummary {
  off: ModeSummary;
  on: ModeSummary;
  /** Median rate with monitoring on over the median with it off; null unless every drain caught up. */
  drainRatio: number | null;
  /** Each round's rate with monitoring on over the rate off in the same round. */
  roundRatios: number[];
  /**
   * Each round's CPU per record with monitoring on over that off in the same round: steadier than the ratio
   * of medians when the machine's load drifts over the run.
   */
  roundCpuRatios: number[];
  /** CPU per record on over off (medians), and the differences, all threads and the main thread alone. */
  cpuRatio: number | null;
  cpuDeltaMicros: number | null;
  mainThreadCpuDeltaMicros: number | null;
  /** Alerts over the events of a drain (median over the drains with monitoring on). */
  alertShare: number | null;
  /** Alerts of each drain with monitoring on: the same backlog, so the same count unless records repeated. */
  alertsPerDrain: number[];
  driftWindowsPerDrain: number[];
  throughputMet: boolean | undefined;
}

function modeSummary(drains: readonly MonitoringDrain[], mode: MonitoringMode): ModeSummary {
  const own = drains.filter((entry) => entry.mode === mode);
  const done = own.filter((entry) => entry.drain.completed).map((entry) => entry.drain);
  return {
    mode,
    ...drainMedians(done),
    medianEventLoopUtilization: medianOrNull(done.map((drain) => drain.stats.eventLoopUtilization)),
    medianInferenceCallsPerThousand: medianOrNull(
      done.map((drain) => (1000 * drain.stats.inferenceBatches) / drain.stats.outputs),
    ),
    unfinishedDrains: own.length - done.length,
    uncleanStops: own
      .map((entry) => entry.drain.stats.uncleanStop)
      .filter((ending): ending is string => ending !== undefined),
  };
}

const difference = (on: number | null, off: number | null) => (on === null || off === null ? null : on - off);

export function summarizeMonitoring({
  drains,
  backlog,
}: Pick<MonitoringResult, 'drains' | 'backlog'>): MonitoringSummary {
  const off = modeSummary(drains, 'off');
  const on = modeSummary(drains, 'on');
  const everyDrainFinished = off.unfinishedDrains === 0 && on.unfinishedDrains === 0;
  const drainRatio =
    everyDrainFinished && off.medianDrainRate && on.medianDrainRate !== null
      ? on.medianDrainRate / off.medianDrainRate
      : null;
  const rounds = [...new Set(drains.map((entry) => entry.round))].sort((a, b) => a - b);
  const pairs = rounds.flatMap((round) => {
    const [offDrain, onDrain] = (['off', 'on'] as const).map((mode) =>
      drains.find((entry) => entry.round === round && entry.mode === mode && entry.drain.completed),
    );
    return offDrain && onDrain ? [{ off: offDrain.drain, on: onDrain.drain }] : [];
  });
  const onDrains = drains.filter((entry) => entry.mode === 'on');
  const alertsPerDrain = onDrains.flatMap((entry) => (entry.alerts === null ? [] : [entry.alerts]));
  const cpu = { off: off.medianCpuMicrosPerRecord, on: on.medianCpuMicrosPerRecord };
  const bothCpu = everyDrainFinished && cpu.off !== null && cpu.on !== null;
  return {
    off,
    on,
    drainRatio,
    roundRatios: pairs.map(({ off, on }) => on.rate / off.rate),
    roundCpuRatios: pairs.map(({ off, on }) => on.stats.cpuMicrosPerOutput / off.stats.cpuMicrosPerOutput),
    cpuRatio: bothCpu ? cpu.on! / cpu.off! : null,
    cpuDeltaMicros: bothCpu ? cpu.on! - cpu.off! : null,
    mainThreadCpuDeltaMicros: everyDrainFinished
      ? difference(on.medianMainThreadCpuMicrosPerRecord, off.medianMainThreadCpuMicrosPerRecord)
      : null,
    alertShare: alertsPerDrain.length > 0 && backlog > 0 ? median(alertsPerDrain) / backlog : null,
    alertsPerDrain,
    driftWindowsPerDrain: onDrains.flatMap((entry) =>
      entry.driftWindows === null ? [] : [entry.driftWindows],
    ),
    // A drain that did not catch up has no rate: the verdict is then "not met", a stall being worse than slow.
    throughputMet:
      drains.length === 0
        ? undefined
        : drainRatio !== null && drainRatio >= MONITORING_GOAL.minThroughputRatio,
  };
}
