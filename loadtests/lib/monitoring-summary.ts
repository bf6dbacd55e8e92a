/**
 * The monitoring benchmark's figures and verdict, computed from the raw drains, so the report judges an
 * older results file by the current rules. Its part of BENCHMARKS.md is lib/monitoring-report.ts.
 */
import type { Config } from '../../src/config/index.js';
import type { DriftProfile, MonitoringDrain, MonitoringMode } from './monitoring-drain.js';
import type { RunEnvironment } from './results.js';
import { drainMedians, median, medianOrNull } from './rounds.js';

/**
 * Issue 12: drift, computed off the hot path, costs at most 5% of the service's throughput. Judged by the
 * profiled drain (drift's share of the main thread, which bounds a drain); drains a few percent apart cannot
 * tell 5% on a shared machine, their ratio is reported beside it.
 */
export const MONITORING_GOAL = { minThroughputRatio: 0.95, maxDriftShare: 0.05 } as const;

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
  /** Absent from results recorded before the profiled drain was part of the run. */
  driftProfile?: DriftProfile;
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

/** One mode against monitoring off, drain by drain within each round and over the medians. */
export interface VersusOff {
  /** Median rate in the mode over the median with monitoring off; null unless every drain of both caught up. */
  drainRatio: number | null;
  /** Each round's rate in the mode over the rate off in the same round. */
  roundRatios: number[];
  /**
   * Each round's CPU per record in the mode over that off in the same round: steadier than the ratio of
   * medians when the machine's load drifts over the run.
   */
  roundCpuRatios: number[];
  /** CPU per record in the mode over off (medians), and the differences, all threads and the main thread alone. */
  cpuRatio: number | null;
  cpuDeltaMicros: number | null;
  mainThreadCpuDeltaMicros: number | null;
}

export interface MonitoringSummary {
  modes: Record<MonitoringMode, ModeSummary>;
  /** Drift alone against off: what the goal bounds. */
  drift: VersusOff;
  /** Alerts and drift against off: reported, with no goal of its own. */
  on: VersusOff;
  /** Alerts over the events of a drain (median over the drains with alerts on). */
  alertShare: number | null;
  /** Alerts of each drain with alerts on: the same backlog, so the same count unless records repeated. */
  alertsPerDrain: number[];
  /** Drift windows of each drain with drift on (either mode). */
  driftWindowsPerDrain: number[];
  /**
   * Drift's share of the profiled drain's main thread at most MONITORING_GOAL.maxDriftShare; without a
   * profile, drift on at ≥ MONITORING_GOAL.minThroughputRatio of the rate off; undefined before any drain.
   */
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

const difference = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);

function versusOff(drains: readonly MonitoringDrain[], off: ModeSummary, mode: ModeSummary): VersusOff {
  const everyDrainFinished = off.unfinishedDrains === 0 && mode.unfinishedDrains === 0;
  const rounds = [...new Set(drains.map((entry) => entry.round))].sort((a, b) => a - b);
  const pairs = rounds.flatMap((round) => {
    const [offDrain, modeDrain] = [off.mode, mode.mode].map((wanted) =>
      drains.find((entry) => entry.round === round && entry.mode === wanted && entry.drain.completed),
    );
    return offDrain && modeDrain ? [{ off: offDrain.drain, mode: modeDrain.drain }] : [];
  });
  const cpu = { off: off.medianCpuMicrosPerRecord, mode: mode.medianCpuMicrosPerRecord };
  const bothCpu = everyDrainFinished && cpu.off !== null && cpu.mode !== null;
  return {
    drainRatio:
      everyDrainFinished && off.medianDrainRate && mode.medianDrainRate !== null
        ? mode.medianDrainRate / off.medianDrainRate
        : null,
    roundRatios: pairs.map((pair) => pair.mode.rate / pair.off.rate),
    roundCpuRatios: pairs.map(
      (pair) => pair.mode.stats.cpuMicrosPerOutput / pair.off.stats.cpuMicrosPerOutput,
    ),
    cpuRatio: bothCpu ? cpu.mode! / cpu.off! : null,
    cpuDeltaMicros: bothCpu ? cpu.mode! - cpu.off! : null,
    mainThreadCpuDeltaMicros: everyDrainFinished
      ? difference(mode.medianMainThreadCpuMicrosPerRecord, off.medianMainThreadCpuMicrosPerRecord)
      : null,
  };
}

export function summarizeMonitoring({
  drains,
  backlog,
  driftProfile,
}: Pick<MonitoringResult, 'drains' | 'backlog' | 'driftProfile'>): MonitoringSummary {
  const modes = {
    off: modeSummary(drains, 'off'),
    drift: modeSummary(drains, 'drift'),
    on: modeSummary(drains, 'on'),
  };
  const drift = versusOff(drains, modes.off, modes.drift);
  const alertsPerDrain = drains.flatMap((entry) => (entry.alerts === null ? [] : [entry.alerts]));
  return {
    modes,
    drift,
    on: versusOff(drains, modes.off, modes.on),
    alertShare: alertsPerDrain.length > 0 && backlog > 0 ? median(alertsPerDrain) / backlog : null,
    alertsPerDrain,
    driftWindowsPerDrain: drains.flatMap((entry) =>
      entry.driftWindows === null ? [] : [entry.driftWindows],
    ),
    // A drain that did not catch up has no rate: the verdict is then "not met", a stall being worse than slow.
    throughputMet:
      drains.length === 0
        ? undefined
        : driftProfile
          ? driftProfile.driftShare <= MONITORING_GOAL.maxDriftShare
          : drift.drainRatio !== null && drift.drainRatio >= MONITORING_GOAL.minThroughputRatio,
  };
}
