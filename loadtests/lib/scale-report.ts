/**
 * The scale-out benchmark's part of BENCHMARKS.md: its row in the targets table and its own section, also
 * printed by loadtests/scale.ts at the end of a run. The figures are lib/scale-summary.ts's.
 */
import { integer, micros, ms, rate, ratio, verdict } from './format.js';
import { LAG_FLOOR_SECONDS } from './scale-changes.js';
import type { DeliveryMode } from './scale-instances.js';
import type { MembershipRun } from './scale-membership.js';
import { GAP_MIN_MS } from './scale-output.js';
import { CHANGE_LABELS, type MembershipChange } from './scale-step.js';
import {
  type CountSummary,
  type DeliverySummary,
  type ScaleResult,
  type ScaleSummary,
  summarizeScale,
} from './scale-summary.js';

const MODE_LABELS: Record<DeliveryMode, string> = {
  'at-least-once': 'at-least-once',
  'exactly-once': 'exactly-once (read_committed)',
};

const seconds = (value: number | null) => (value === null ? 'n/a' : `${value.toFixed(1)} s`);
const optionalRatio = (value: number | null) => (value === null ? 'n/a' : ratio(value));
const optionalMicros = (value: number | null) => (value === null ? 'n/a' : micros(value));

function deliveryCell(entry: DeliverySummary): string {
  const counts = `${integer(entry.lost)} lost, ${integer(entry.duplicates)} duplicates of ${integer(entry.sent)}`;
  return entry.complete ? counts : `${counts} (the output was not read to its end: a floor)`;
}

export function scaleTargetRow(result: ScaleResult): string {
  const summary = summarizeScale(result);
  const cells = [
    ...summary.delivery.map((entry) => `${entry.mode}: ${deliveryCell(entry)}`),
    `rolling restart: ${deliveryCell(summary.rolling.delivery)}`,
  ];
  return `| delivery while instances join, leave, are killed and replaced | ${cells.join('; ')} | 0 lost; exactly-once 0 duplicates | ${verdict(summary.deliveryMet)} |`;
}

function steadyTable(result: ScaleResult, summary: ScaleSummary): string[] {
  const perRound = (instances: number) =>
    result.drains
      .filter((drain) => drain.instances === instances)
      .map((drain) =>
        drain.completed
          ? integer(drain.rate)
          : `${drain.stalled ? 'stalled' : 'timed out'} at ${integer(drain.outputs)}`,
      )
      .join('; ');
  const p99s = (instances: number) =>
    result.openLoops
      .filter((run) => run.instances === instances)
      .map((run) => ms(run.latencyMs.p99))
      .join('; ');
  const row = (entry: CountSummary) =>
    `| ${entry.instances} | ${entry.drainRate === null ? 'none caught up' : rate(entry.drainRate)} (${perRound(entry.instances)}) | ${optionalRatio(entry.ratios.drainRate)} | ` +
    `${optionalMicros(entry.drainCpuMicrosPerRecord)} | ${optionalRatio(entry.ratios.drainCpuPerRecord)} | ${entry.drainCoresUsed?.toFixed(2) ?? 'n/a'} | ` +
    `${entry.recordsPerCpuSecond === null ? 'n/a' : integer(entry.recordsPerCpuSecond)} | ${ms(entry.openLoopP50Ms)} | ${ms(entry.openLoopP99Ms)} (${p99s(entry.instances)}) | ` +
    `${ratio(entry.ratios.openLoopP99)} | ${micros(entry.openLoopCpuMicrosPerRecord)} | ${ratio(entry.ratios.openLoopCpuPerRecord)} | ${entry.openLoopCoresUsed.toFixed(2)} | ${entry.held} of ${entry.windows} |`;
  return [
    `| instances | drain rate: median (per round) | × 1 instance | CPU per record, draining | × 1 instance | cores used, draining | records per CPU-second | p50 at ${rate(result.rate)} (ms) | p99 (per round) | p99 × 1 instance | CPU per record at ${rate(result.rate)} | × 1 instance | cores used | lag flat |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...summary.counts.map(row),
  ];
}

function steadyFindings(summary: ScaleSummary): string[] {
  const one = summary.counts.find((entry) => entry.instances === 1);
  const most = summary.counts.at(-1);
  if (!one || !most || most === one) return [];
  const cores = (entry: CountSummary) => entry.drainCoresUsed?.toFixed(2) ?? 'n/a';
  const moreCores =
    most.drainCoresUsed !== null &&
    one.drainCoresUsed !== null &&
    most.drainCoresUsed > one.drainCoresUsed * 1.2;
  const lines = [
    `- **Total throughput**: ${most.instances} instances drained at ${optionalRatio(most.ratios.drainRate)} one instance's rate, using ${cores(most)} cores` +
      ` against ${cores(one)}` +
      (moreCores
        ? ': one instance leaves part of the machine idle, and more instances put more of it to work.'
        : ': the instances shared the CPU one instance already used.') +
      ' The machine has 2 cores, shared with the broker, the harness and other work, so the total cannot grow with' +
      ' the instances; CPU per record is the figure that carries over to a machine with a core per instance.',
    `- **CPU per record** draining: ${summary.counts
      .filter((entry) => entry !== one)
      .map((entry) => `${entry.instances} instances ${optionalRatio(entry.ratios.drainCpuPerRecord)}`)
      .join(', ')} one instance's; at the open-loop rate ${summary.counts
      .filter((entry) => entry !== one)
      .map((entry) => `${ratio(entry.ratios.openLoopCpuPerRecord)}`)
      .join(' and ')}. What one core buys: ${summary.counts
      .map((entry) =>
        entry.recordsPerCpuSecond === null
          ? ''
          : `${integer(entry.recordsPerCpuSecond)} records per CPU-second with ${entry.instances}`,
      )
      .filter(Boolean)
      .join(', ')} (draining).`,
    `- **Latency** at the same open-loop rate: p99 ${summary.counts
      .map((entry) => `${ms(entry.openLoopP99Ms)} ms with ${entry.instances}`)
      .join(', ')}.`,
  ];
  return lines;
}

/** An added instance's start-up comes before its change: how long it took and the lag's peak meanwhile. */
const changeLabel = (entry: MembershipChange) =>
  entry.kind === 'add' && entry.startupSeconds !== undefined
    ? `${CHANGE_LABELS[entry.kind]} (its start-up before: ${entry.startupSeconds.toFixed(1)} s, lag up to ${integer(entry.startupPeakLag ?? 0)})`
    : CHANGE_LABELS[entry.kind];

/** "1,204 ms (310 before)": the longest silence of the output, and its ordinary rhythm before the change. */
const outputGap = (entry: MembershipChange) =>
  `${integer(entry.longestOutputGapMs)} ms (${integer(entry.ordinaryOutputGapMs)} before)`;

function changeCells(entry: MembershipChange, rateValue: number): string {
  const partitionGap =
    entry.partition === null ? 'none' : `${integer(entry.longestPartitionGapMs)} ms (p${entry.partition})`;
  const recovered = entry.recoverySeconds === null ? '**not back**' : seconds(entry.recoverySeconds);
  return (
    `${entry.instancesBefore} → ${entry.instancesAfter} | ${seconds(entry.assignedSeconds)} | ${entry.rebalances} | ` +
    `${outputGap(entry)} | ${partitionGap} | ` +
    `${integer(entry.peakLag)} (${(entry.peakLag / rateValue).toFixed(1)} s) | ${recovered}${entry.settled ? '' : ' (unsettled)'} | ${ms(entry.latencyMs.p99)} |`
  );
}

function membershipTable(runs: readonly MembershipRun[]): string[] {
  const lines = [
    '| delivery | change | instances | all partitions assigned after | rebalances | longest output gap | longest gap on one partition | peak lag (s of traffic) | lag back after | p99 of its events (ms) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const run of runs) {
    for (const entry of run.changes) {
      lines.push(`| ${MODE_LABELS[run.mode]} | ${changeLabel(entry)} | ${changeCells(entry, run.rate)}`);
    }
  }
  return lines;
}

function auditTable(summary: ScaleSummary): string[] {
  const row = (scenario: string, entry: DeliverySummary) =>
    `| ${scenario} | ${MODE_LABELS[entry.mode]} | ${integer(entry.sent)} | ${integer(entry.lost)} | ${integer(entry.duplicates)} | ${entry.complete ? 'yes' : '**no**'} | ${entry.mode === 'exactly-once' ? '0 lost, 0 duplicates' : '0 lost'} | ${verdict(entry.met)} |`;
  return [
    '| run | delivery | events sent | lost | duplicates | output read to its end | goal | verdict |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...summary.delivery.map((entry) => row('membership changes', entry)),
    row('rolling restart', summary.rolling.delivery),
  ];
}

function rollingTable(run: MembershipRun): string[] {
  const lines = [
    '| replacement | SIGTERM → all partitions assigned | of which the replacement starting | old instance stopped after | rebalances | longest output gap | longest gap on one partition | peak lag (s of traffic) | lag back after |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  run.changes.forEach((entry, index) => {
    const partitionGap =
      entry.partition === null ? 'none' : `${integer(entry.longestPartitionGapMs)} ms (p${entry.partition})`;
    lines.push(
      `| ${index + 1} | ${seconds(entry.assignedSeconds)} | ${seconds(entry.startupSeconds ?? null)} | ${seconds(entry.stop?.seconds ?? null)} | ${entry.rebalances} | ` +
        `${outputGap(entry)} | ${partitionGap} | ` +
        `${integer(entry.peakLag)} (${(entry.peakLag / run.rate).toFixed(1)} s) | ${entry.recoverySeconds === null ? '**not back**' : seconds(entry.recoverySeconds)} |`,
    );
  });
  return lines;
}

function sessionTimeout(runs: readonly MembershipRun[]): string {
  const override = runs.find((run) => run.settings.sessionTimeoutMs !== undefined)?.settings.sessionTimeoutMs;
  return override === undefined
    ? 'the default session timeout (30 s), so a SIGKILLed member holds its partitions that long before the group notices'
    : `a session timeout of ${override / 1000} s (**not the default 30 s**: a --quick run), so a SIGKILLed member holds its partitions that long`;
}

export function scaleMarkdown(result: ScaleResult): string[] {
  const summary = summarizeScale(result);
  const { rolling } = summary;
  const backlog = result.drains[0]?.backlog ?? 0;
  return [
    '## Scale-out: instances in one group',
    '',
    `1, 2 and 3 instances of the full service (default settings, ${result.model}) in one consumer group on a` +
      ` ${result.partitions}-partition input topic, the output keyed like the input; each instance its own process serving as` +
      ' `streamscore serve` does (settings from the environment, a graceful stop on SIGTERM), its CPU read from' +
      ' /proc/<pid>/stat (all threads). **This machine has 2 cores and was shared with other work during the run**:' +
      ` 1-minute load average ${result.loadAverage.start.toFixed(1)} at the start and ${result.loadAverage.end.toFixed(1)} at the end` +
      " (each run's own in the results file). Compare within the run: ratios to one instance, never absolute figures.",
    '',
    '### Steady: draining and at a fixed rate',
    '',
    `Each count's instances start on a topic whose ${integer(backlog)}-event backlog was published in one open transaction,` +
      ' committed once the group is Stable with every partition assigned: the instances read read_committed, so the whole' +
      ' backlog appears to all of them at once and no rebalance falls inside the drain. The same instances then take an' +
      ` open-loop load of ${rate(result.rate)} (${result.rateSource}), latency from each event's scheduled time.` +
      ` ${result.rounds} round${result.rounds === 1 ? '' : 's'}, 1-2-3 instances in odd rounds and 3-2-1 in even ones.`,
    '',
    ...steadyTable(result, summary),
    '',
    ...steadyFindings(summary),
    '',
    '### Membership changes under load',
    '',
    `At ${rate(result.rate)}, open loop: 1 instance, a 2nd added, a 3rd added, one stopped with SIGTERM, one killed with` +
      ` SIGKILL, each change once the one before had settled, in both delivery modes, with ${sessionTimeout(result.membership)}.` +
      ' kafkajs rebalances eagerly: every member gives up all its partitions and rejoins; the partitions that change' +
      ' hands wait longest (the gap on one partition), the output as a whole slows or pauses meanwhile (the longest' +
      ' output gap).',
    '',
    ...membershipTable(result.membership),
    '',
    '- Each change counts from the signal, or for an added instance from the moment it starts joining the group: its' +
      ' start-up before that (a process loading the model on the cores the running instances use) is given beside it,' +
      ' with the highest lag meanwhile. *all partitions assigned after*: from the change to the group Stable with the' +
      ' expected members and every partition assigned, the coordinator polled every 200 ms. *rebalances*: generations' +
      ' an instance present throughout joined.',
    `- *longest output gap*: the longest time no prediction arrived at all, beside the longest over the 2 s before the` +
      ` change (the stream's ordinary rhythm; silences under ${GAP_MIN_MS} ms count as none); *on one partition*: the longest an` +
      " output partition (the accounts of the same input partition) received none: a killed member's partitions stay" +
      ' silent until the group removes it.',
    `- *lag*: events due minus events predicted; *lag back after*: from the change until it stayed at or below its level` +
      ` before the change (the highest over the 2 s before, at least ${LAG_FLOOR_SECONDS} s of traffic) to the end of the step.` +
      ' *unsettled*: the step ended on its time limit, not because the lag was back.',
    '',
    ...auditTable(summary),
    '',
    '### Rolling restart',
    '',
    `3 instances at ${rate(result.rate)}, at-least-once; ${rolling.replacements === 1 ? 'one of them' : `each of the ${rolling.replacements}`} replaced in turn:` +
      ' SIGTERM to the old instance and its replacement started at once, the next one once the group is Stable with every' +
      ' partition assigned and the lag back. kafkajs 2.2.4 has no static membership (group.instance.id), so a' +
      ' replacement is up to two rebalances: one when the old instance leaves, one when the new one joins (one only' +
      ' when the join reaches the coordinator while the rebalance after the leave is still under way).',
    '',
    ...rollingTable(result.rolling),
    '',
    `- The replacements took ${rolling.rebalances.join(', ')} rebalances and ${rolling.assignedSeconds.map(seconds).join(', ')} from SIGTERM until every partition` +
      ` was assigned again (${seconds(rolling.totalAssignedSeconds)} in all), of which the replacement starting` +
      ` ${rolling.startupSeconds.map((value) => value.toFixed(1)).join(', ')} s; the longest time no prediction arrived at all` +
      ` was ${rolling.longestOutputGapMs.map((value) => `${integer(value)} ms`).join(', ')}.`,
    '',
  ];
}
