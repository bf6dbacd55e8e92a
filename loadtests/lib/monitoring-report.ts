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
} from './monitoring-summary.js';
import { median } from './rounds.js';

const orNa = (value: number | null, show: (value: number) => string) =>
  value === null ? 'n/a' : show(value);

export function monitoringTargetRow(result: MonitoringResult): string {
  const summary = summarizeMonitoring(result);
  const { off, on } = summary;
  const draining =
    summary.drainRatio === null
      ? `draining a backlog: ${off.unfinishedDrains + on.unfinishedDrains} of ${result.drains.length} drains did not catch up`
      : `${ratio(summary.drainRatio)} draining a backlog (${rate(on.medianDrainRate!)} vs ${rate(off.medianDrainRate!)}, medians of ${result.rounds})`;
  const alerts =
    summary.alertShare === null
      ? ''
      : `; ${percent(summary.alertShare)} of events alerted, ${result.explanation} reasons`;
  return `| throughput, monitoring alerts + drift on / off | ${draining}${alerts} | ≥ ${MONITORING_GOAL.minThroughputRatio}× | ${verdict(summary.throughputMet)} |`;
}

function drainTable(result: MonitoringResult, summary: MonitoringSummary): string[] {
  const lines = [
    '| service | drain rate: median (per round) | CPU per record: median | of which the main thread | cores used | main thread busy | inference calls per 1,000 records | on / off | goal | verdict |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const mode of MONITORING_MODES) {
    const own = summary[mode];
    const drains = result.drains.filter((entry) => entry.mode === mode).map((entry) => entry.drain);
    lines.push(
      `| ${MODE_LABELS[mode]} | ${drainRates(own.medianDrainRate, drains)} | ${orNa(own.medianCpuMicrosPerRecord, micros)} | ${orNa(own.medianMainThreadCpuMicrosPerRecord, micros)} | ` +
        `${orNa(own.medianCoresUsed, (value) => value.toFixed(2))} | ${orNa(own.medianEventLoopUtilization, percent)} | ${orNa(own.medianInferenceCallsPerThousand, (value) => value.toFixed(2))} | ` +
        (mode === 'on'
          ? `${orNa(summary.drainRatio, ratio)} (per round ${summary.roundRatios.map((value) => value.toFixed(2)).join(', ')}) | ≥ ${MONITORING_GOAL.minThroughputRatio}× | ${verdict(summary.throughputMet)} |`
          : ' | | |'),
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
  if (summary.drainRatio !== null && summary.cpuDeltaMicros !== null) {
    const low = Math.min(...summary.roundRatios);
    const high = Math.max(...summary.roundRatios);
    const spread =
      summary.roundRatios.length > 1
        ? ` The rounds' own ratios (each drain with monitoring on over the drain off beside it) range ${low.toFixed(2)}–${high.toFixed(2)}, median ${median(summary.roundRatios).toFixed(2)}` +
          (low < MONITORING_GOAL.minThroughputRatio && high > 1 / MONITORING_GOAL.minThroughputRatio
            ? ': rounds on this shared machine differ by more than the goal allows either way, so the verdict rests on the medians, and the CPU per record is the steadier figure.'
            : '.')
        : '';
    const mainThread =
      summary.mainThreadCpuDeltaMicros === null
        ? ''
        : `: ${signedMicros(summary.mainThreadCpuDeltaMicros)} on the main thread, ${signedMicros(summary.cpuDeltaMicros - summary.mainThreadCpuDeltaMicros)} in the other threads (the inference workers scoring the occluded rows among them)`;
    const cpuRounds =
      summary.roundCpuRatios.length > 1
        ? ` Per round, CPU per record with monitoring on over the drain off beside it ranges ${Math.min(...summary.roundCpuRatios).toFixed(2)}–${Math.max(...summary.roundCpuRatios).toFixed(2)}, median ${median(summary.roundCpuRatios).toFixed(2)}.`
        : '';
    lines.push(
      `- **Cost**: with monitoring on the service drained at ${ratio(summary.drainRatio)} the rate with it off and used` +
        ` ${signedMicros(summary.cpuDeltaMicros)} of CPU per record (${ratio(summary.cpuRatio!)}, medians)${mainThread}.${spread}${cpuRounds}`,
    );
  }
  const stops = [...summary.off.uncleanStops, ...summary.on.uncleanStops];
  if (stops.length > 0) {
    lines.push(`- ${stops.length} target process(es) ended uncleanly after reporting (${stops.join(', ')}).`);
  }
  return lines;
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
      ` and with \`monitoring.alerts\` and \`monitoring.drift\` on (${setting.reasonCodes} reason codes; drift windows of` +
      ` ${integer(setting.driftWindowEvents)} events or ${integer(setting.driftWindowMs / 1000)} s; the other monitoring settings at` +
      ' their defaults), its alerts and drift windows on topics of their own, created beside the others and counted after the' +
      ` drain. ${result.rounds} round${result.rounds === 1 ? '' : 's'} of each in alternating order; rate from the first prediction` +
      ' to the last (predictions only: alerts and windows go to other topics), CPU per record the service process (all threads)' +
      ' over the same span.' +
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
