/**
 * The monitoring benchmark's part of BENCHMARKS.md: its row in the targets table and its own section, also
 * printed by loadtests/monitoring.ts at the end of a run. The figures are lib/monitoring-summary.ts's.
 */
import { drainRates, integer, micros, percent, rate, ratio, signedMicros, verdict } from './format.js';
import { MODE_LABELS, MONITORING_MODES } from './monitoring-drain.js';
import {
  MONITORING_GOAL,
  type MonitoringResult,
  type MonitoringSummary,
  summarizeMonitoring,
  type VersusOff,
} from './monitoring-summary.js';
import { median } from './rounds.js';

const orNa = (value: number | null, show: (value: number) => string) =>
  value === null ? 'n/a' : show(value);

const GOAL_CELL = `≤ ${percent(MONITORING_GOAL.maxDriftShare)} of the throughput`;

/** Drift's share of the profiled drain's main thread, the figure the verdict rests on. */
function driftShareCell(result: MonitoringResult): string {
  const profile = result.driftProfile;
  return profile
    ? `drift ${percent(profile.driftShare)} of the main thread's busy time (${micros(profile.driftMicrosPerRecord)} of ${micros(profile.busyMicrosPerRecord)} per record, profiled drain)`
    : 'no profiled drain in this result';
}

function drainingCell(result: MonitoringResult, summary: MonitoringSummary, mode: 'drift' | 'on'): string {
  const versus = summary[mode];
  const off = summary.modes.off;
  const own = summary.modes[mode];
  return versus.drainRatio === null
    ? `draining a backlog: ${off.unfinishedDrains + own.unfinishedDrains} drains did not catch up`
    : `${ratio(versus.drainRatio)} draining a backlog (${rate(own.medianDrainRate!)} vs ${rate(off.medianDrainRate!)}, medians of ${result.rounds})`;
}

/** Drift against its goal, and alerts with drift beside it: issue 12 asks for that row, with no goal. */
export function monitoringTargetRows(result: MonitoringResult): string[] {
  const summary = summarizeMonitoring(result);
  const alerts =
    summary.alertShare === null
      ? ''
      : `; ${percent(summary.alertShare)} of events alerted, ${result.explanation} reasons`;
  return [
    `| throughput, monitoring drift on / off | ${driftShareCell(result)}; ${drainingCell(result, summary, 'drift')} | ${GOAL_CELL} | ${verdict(summary.throughputMet)} |`,
    `| throughput, monitoring alerts + drift on / off | ${drainingCell(result, summary, 'on')}${alerts} | none (reported) | reported |`,
  ];
}

function drainTable(result: MonitoringResult, summary: MonitoringSummary): string[] {
  const lines = [
    '| service | drain rate: median (per round) | CPU per record: median | of which the main thread | cores used | main thread busy | inference calls per 1,000 records | / off (per round) | goal | verdict |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const mode of MONITORING_MODES) {
    const own = summary.modes[mode];
    const drains = result.drains.filter((entry) => entry.mode === mode).map((entry) => entry.drain);
    const versus = mode === 'off' ? undefined : summary[mode];
    const comparison = versus
      ? `${orNa(versus.drainRatio, ratio)} (${versus.roundRatios.map((value) => value.toFixed(2)).join(', ')}) | ` +
        (mode === 'drift' ? `${GOAL_CELL} | ${verdict(summary.throughputMet)} |` : 'none | reported |')
      : ' | | |';
    lines.push(
      `| ${MODE_LABELS[mode]} | ${drainRates(own.medianDrainRate, drains)} | ${orNa(own.medianCpuMicrosPerRecord, micros)} | ${orNa(own.medianMainThreadCpuMicrosPerRecord, micros)} | ` +
        `${orNa(own.medianCoresUsed, (value) => value.toFixed(2))} | ${orNa(own.medianEventLoopUtilization, percent)} | ${orNa(own.medianInferenceCallsPerThousand, (value) => value.toFixed(2))} | ${comparison}`,
    );
  }
  return lines;
}

/** "4,120" when every drain published as many, else "4,120 (4,118–4,120)". */
function countsCell(counts: readonly number[]): string {
  const low = Math.min(...counts);
  const high = Math.max(...counts);
  return low === high ? integer(low) : `${integer(median(counts))} (${integer(low)}–${integer(high)})`;
}

function findings(result: MonitoringResult, summary: MonitoringSummary): string[] {
  const lines: string[] = [];
  if (summary.alertShare !== null) {
    const alerts = median(summary.alertsPerDrain);
    const reasons =
      result.explanation === 'occlusion'
        ? ` Their reasons come from occlusion: each alerted row is scored again once per feature not already at its training median (a feature at its median adds exactly 0), at most ${integer(alerts * result.modelFeatures)} extra rows a drain (${((alerts * result.modelFeatures) / result.backlog).toFixed(2)} per event), in one inference call of its own per batch that alerted.`
        : ` Their reasons are ${result.explanation}: no extra inference.`;
    lines.push(
      `- **Alerts**: ${countsCell(summary.alertsPerDrain)} of the ${integer(result.backlog)} events a drain scored at or above ${result.alertThreshold} (${percent(summary.alertShare)}), each published with ${result.setting.reasonCodes} reason codes in the produce request of its batch's predictions.${reasons}`,
    );
  }
  if (summary.driftWindowsPerDrain.length > 0) {
    lines.push(
      `- **Drift**: every scored batch counted into the model version's window on the main thread; ${countsCell(summary.driftWindowsPerDrain)} windows published a drain, each closed by the batch that brought it to ${integer(result.setting.driftWindowEvents)} events or more and judged by a PSI per feature and for the score against the manifest's baseline.`,
    );
  }
  if (result.driftProfile) {
    const profile = result.driftProfile;
    lines.push(
      `- **Drift's own time**: one more drain with drift on, its main thread under V8's CPU profiler (${integer(profile.records)} predictions while it ran): the drift frames (counting a batch into its window, closing and judging a window, its event) and what they call took ${micros(profile.driftMicrosPerRecord)} of the main thread's ${micros(profile.busyMicrosPerRecord)} busy time per record, ${percent(profile.driftShare)}. The main thread is what bounds a drain (busy ${orNa(summary.modes.drift.medianEventLoopUtilization, percent)} of the drains with drift on, median), so this share is the throughput drift costs; the verdict rests on it because drains of the same mode differ by more than 5% from round to round on this machine.`,
    );
  }
  lines.push(...costLines('drift', summary.drift), ...costLines('on', summary.on));
  const stops = MONITORING_MODES.flatMap((mode) => summary.modes[mode].uncleanStops);
  if (stops.length > 0) {
    lines.push(`- ${stops.length} target process(es) ended uncleanly after reporting (${stops.join(', ')}).`);
  }
  return lines;
}

/** What a mode cost against monitoring off: its rate, its CPU per record, and how much the rounds vary. */
function costLines(mode: 'drift' | 'on', versus: VersusOff): string[] {
  if (versus.drainRatio === null || versus.cpuDeltaMicros === null) return [];
  const label = MODE_LABELS[mode];
  const low = Math.min(...versus.roundRatios);
  const high = Math.max(...versus.roundRatios);
  const spread =
    versus.roundRatios.length > 1
      ? ` The rounds' own ratios (each drain with ${label} over the drain off in the same round) range ${low.toFixed(2)}–${high.toFixed(2)}, median ${median(versus.roundRatios).toFixed(2)}` +
        (low < MONITORING_GOAL.minThroughputRatio && high > 1 / MONITORING_GOAL.minThroughputRatio
          ? ': rounds on this shared machine differ by more than 5% either way, so a difference that small shows in the medians if at all, and the CPU per record is the steadier figure.'
          : '.')
      : '';
  const mainThread =
    versus.mainThreadCpuDeltaMicros === null
      ? ''
      : `: ${signedMicros(versus.mainThreadCpuDeltaMicros)} on the main thread, ${signedMicros(versus.cpuDeltaMicros - versus.mainThreadCpuDeltaMicros)} in the other threads`;
  const cpuRounds =
    versus.roundCpuRatios.length > 1
      ? ` Per round, CPU per record with ${label} over the drain off beside it ranges ${Math.min(...versus.roundCpuRatios).toFixed(2)}–${Math.max(...versus.roundCpuRatios).toFixed(2)}, median ${median(versus.roundCpuRatios).toFixed(2)}.`
      : '';
  return [
    `- **Cost, ${label}**: the service drained at ${ratio(versus.drainRatio)} the rate with monitoring off and used` +
      ` ${signedMicros(versus.cpuDeltaMicros)} of CPU per record (${ratio(versus.cpuRatio!)}, medians)${mainThread}.${spread}${cpuRounds}`,
  ];
}

function recorded(result: MonitoringResult): string[] {
  const { environment } = result;
  if (!environment) return [];
  const commit = `${environment.gitCommit.slice(0, 10)}${environment.gitDirty ? ' + local changes' : ''}`;
  return [
    `Recorded ${environment.recordedAt} at ${commit} by \`${environment.command}\`${result.quick ? ' (**quick**: one round of each, a smaller backlog; indicative only)' : ''}.`,
    '',
  ];
}

/** The section, Markdown ending in a blank line: what report.ts places among its own. */
export function monitoringMarkdown(result: MonitoringResult): string {
  const summary = summarizeMonitoring(result);
  const loads = result.drains.map((entry) => entry.loadAverage);
  const { setting } = result;
  return [
    '## Monitoring: alerts and drift',
    '',
    `The full service (default settings, ${result.model}, ${result.modelFeatures} features, ${result.explanation} reasons) drains a` +
      ` ${integer(result.backlog)}-event backlog, the same topic re-read by a fresh consumer group each time, with monitoring off,` +
      ' with `monitoring.drift` on, and with `monitoring.alerts` and `monitoring.drift` on (' +
      `${setting.reasonCodes} reason codes; drift windows of` +
      ` ${integer(setting.driftWindowEvents)} events or ${integer(setting.driftWindowMs / 1000)} s; the other monitoring settings at` +
      ' their defaults), its alerts and drift windows on topics of their own, created beside the others and counted after the' +
      ` drain. ${result.rounds} round${result.rounds === 1 ? '' : 's'} of each, the order rotated by one place a round; rate from the first prediction` +
      ' to the last (predictions only: alerts and windows go to other topics), CPU per record the service process (all threads)' +
      ' over the same span. The goal (issue 12) bounds drift, computed off the hot path, at 5% of the throughput;' +
      ' alerts cost what their reasons and records cost and are reported beside it.' +
      (loads.length > 0
        ? ` The machine's 1-minute load average at the start of the drains was ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} (2 cores, shared with other work).`
        : ''),
    '',
    ...recorded(result),
    ...drainTable(result, summary),
    '',
    ...findings(result, summary),
    '',
  ].join('\n');
}
