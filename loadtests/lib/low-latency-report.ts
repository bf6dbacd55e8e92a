/**
 * The low-load latency section of BENCHMARKS.md: the service at a steady, ordinary rate beside what Kafka's
 * own EndToEndLatency tool measures on the same broker, the goals' verdicts, and where the milliseconds go.
 */
import type { GcPauses } from './broker-gc.js';
import { integer, latencyCells, micros, ms, ratio, verdict } from './format.js';
import type { LatencySummary } from './latency.js';
import { type LatencyBreakdown, ownedMeanMs, type SegmentSummary } from './low-latency-breakdown.js';
import type { HopLatency, TwoHopLatency } from './low-latency-tool.js';
import type { TraceRun } from './low-latency-trace.js';
import { TARGET_LABELS, type TargetKind } from './targets.js';

/** The goal: at most this multiple of the tool's two-hop p50 and p99. */
export const GOAL_MULTIPLE = 2;

export interface SteadyRun {
  target: TargetKind;
  /** input.loops of a service-loops run; undefined for the other targets. */
  loops: number | 'auto' | undefined;
  /** From each event's scheduled send time: includes the generator's tick. */
  latencyMs: LatencySummary;
  /**
   * From the moment the generator handed the event to kafkajs, where the tool's clock starts too: the
   * goals are judged on it. Absent from results recorded before it was kept (judged on latencyMs then).
   */
  latencyFromSendMs?: LatencySummary;
  receiveRate: number;
  unreceived: number;
  /**
   * The target's CPU over the measured window (every thread of its process): at an ordinary load the
   * pipeline's cost is per Kafka request, not per record. Absent from results recorded before it was kept.
   */
  coresUsed?: number;
  cpuMicrosPerRecord?: number;
  /**
   * The target's CPU with no load at all, measured before its run: what an idle instance costs. Absent from
   * results recorded before it was kept.
   */
  idleCoresUsed?: number;
  /**
   * The broker's stop-the-world GC pauses within the measured window (broker-gc.ts). Absent for a broker
   * without the GC log kafka.sh gives it, and from results recorded before it was kept.
   */
  brokerGcPauses?: GcPauses;
}

export interface GoalVerdicts {
  p50Ratio: number;
  p99Ratio: number;
  p50Met: boolean;
  p99Met: boolean;
}

export interface LowLatencyResult {
  rate: number;
  warmupSeconds: number;
  measureSeconds: number;
  partitions: number;
  /** How long each target's idle CPU was measured; absent from results recorded before it was kept. */
  idleMeasureSeconds?: number;
  /** The machine's 1-minute load average when the run started: others share it. */
  loadAverage: number;
  tool: HopLatency & { recordBytes: number; brokerGcPauses?: GcPauses };
  twoHop: TwoHopLatency;
  runs: (SteadyRun & { goals: GoalVerdicts })[];
  traces: TraceRun[];
}

/** The latency the goals judge: from the send call, like the tool's; from the schedule in older results. */
export const judgedLatency = (run: SteadyRun): LatencySummary => run.latencyFromSendMs ?? run.latencyMs;

export function goalVerdicts(latencyMs: LatencySummary, twoHop: TwoHopLatency): GoalVerdicts {
  const p50Ratio = latencyMs.p50 / twoHop.p50Ms;
  const p99Ratio = latencyMs.p99 / twoHop.p99Ms;
  return { p50Ratio, p99Ratio, p50Met: p50Ratio <= GOAL_MULTIPLE, p99Met: p99Ratio <= GOAL_MULTIPLE };
}

export function runLabel(target: TargetKind, loops: number | 'auto' | undefined): string {
  if (target !== 'service-loops') return TARGET_LABELS[target];
  if (loops === undefined || loops === 'auto') return TARGET_LABELS[target];
  return `full service, input.loops ${loops}`;
}

/** The targets table's rows: each run's p50 and p99 against the tool's two-hop figures. */
export function lowLatencyTargetRows(result: LowLatencyResult): string[] {
  return result.runs
    .filter((run) => run.target !== 'bare-pipe')
    .map(
      (run) =>
        `| latency at ${integer(result.rate)}/s steady, ${runLabel(run.target, run.loops)} / Kafka's EndToEndLatency, two hops | p50 ${ratio(run.goals.p50Ratio)} (${ms(judgedLatency(run).p50)} ms vs ${ms(result.twoHop.p50Ms)}), p99 ${ratio(run.goals.p99Ratio)} (${ms(judgedLatency(run).p99)} ms vs ${ms(result.twoHop.p99Ms)}); the bare kafkajs pipe alone: p50 ${ratio(result.runs.find((other) => other.target === 'bare-pipe')?.goals.p50Ratio ?? Number.NaN)} | ≤ ${GOAL_MULTIPLE}× both | ${verdict(run.goals.p50Met && run.goals.p99Met)} |`,
    );
}

const gcPausesCell = (pauses: GcPauses | undefined) =>
  pauses === undefined
    ? 'n/a'
    : `${pauses.count}${pauses.count === 0 ? '' : ` (${ms(pauses.totalMs)} ms, longest ${ms(pauses.longestMs)})`}`;

/**
 * What the broker's pauses do to each kind of client, once the run has counted them. The tool's closed
 * loop hides them from its percentiles; a stream at a fixed rate cannot.
 */
function brokerPausesParagraph(result: LowLatencyResult): string[] {
  const toolPauses = result.tool.brokerGcPauses;
  if (toolPauses === undefined) return [];
  const duringTool =
    toolPauses.count === 0
      ? 'the broker did not pause'
      : `it paused ${toolPauses.count} ${toolPauses.count === 1 ? 'time' : 'times'}, ${ms(toolPauses.totalMs)} ms in all`;
  return [
    "Broker GC pauses: the stop-the-world pauses in the broker's GC log within each measured window " +
      '(count, their total, the longest). While one lasts the broker acknowledges no produce and answers no ' +
      `fetch. During the tool's run ${duringTool}. ` +
      'The tool sends its next record only once the last one came back, so a pause delays one of its ' +
      `samples and its p99 hardly moves. A stream at ${integer(result.rate)} events/s has every event sent ` +
      'during a pause wait it out, and the ones queued behind them too, so the same pauses reach its p99.',
    '',
  ];
}

const segmentCells = ({ meanMs, p50Ms, p99Ms }: SegmentSummary) =>
  `${ms(meanMs)} | ${ms(p50Ms)} | ${ms(p99Ms)}`;

function breakdownTable(breakdown: LatencyBreakdown): string[] {
  return [
    '| segment | whose | mean ms | p50 ms | p99 ms |',
    '| --- | --- | --- | --- | --- |',
    ...breakdown.segments.map(
      (segment) => `| ${segment.name} | ${segment.owner} | ${segmentCells(segment.summary)} |`,
    ),
    `| **scheduled → prediction received** | | ${segmentCells(breakdown.endToEnd)} |`,
    `| *for reference: input append → an idle kafkajs consumer* | kafka | ${segmentCells(breakdown.idleConsumerFetch)} |`,
  ];
}

function traceSection(trace: TraceRun): string[] {
  const { breakdown } = trace;
  const owned = ownedMeanMs(breakdown, 'streamscore');
  return [
    `**${runLabel(trace.target, trace.loops)}** (${integer(breakdown.events)} events; of the mean ` +
      `${ms(breakdown.endToEnd.meanMs)} ms, streamscore's segments ${ms(owned)} ms, Kafka's ` +
      `${ms(ownedMeanMs(breakdown, 'kafka'))} ms, the harness's ${ms(ownedMeanMs(breakdown, 'harness'))} ms)`,
    '',
    ...breakdownTable(breakdown),
    '',
  ];
}

export function lowLatencyMarkdown(result: LowLatencyResult): string {
  const { tool, twoHop } = result;
  return [
    `## Low-load latency: ${integer(result.rate)} events/s steady, warm`,
    '',
    `The service at a steady ${integer(result.rate)} events/s (${result.partitions} partitions, warm-up ` +
      `${result.warmupSeconds} s, then ${result.measureSeconds} s measured, open loop: send → ` +
      `prediction received by a kafkajs reader on a thread of its own) beside Kafka's own \`EndToEndLatency\` ` +
      `tool on the same broker ` +
      `(acks=all, ${tool.recordBytes}-byte records, ${integer(tool.records)} records, one at a time). The tool ` +
      `measured one hop at p50 ${tool.p50Ms} ms, p99 ${tool.p99Ms} ms, p99.9 ${tool.p999Ms} ms (mean ` +
      `${ms(tool.meanMs)} ms; whole milliseconds, truncated). An event and its prediction are two hops: each of ` +
      `the tool's percentiles read at the middle of its millisecond (+0.5 ms) and doubled, ${twoHop.p50Ms} ms p50 and ${twoHop.p99Ms} ms p99 (a lower bound of ` +
      `the two-hop median, an upper bound of its p99). Goal: p50 and p99 at most ${GOAL_MULTIPLE}× those. ` +
      "The service's latency is timed like the tool's, from the producer's send call; timed from each " +
      "event's scheduled instant it also holds the generator's tick (events due within one tick go out " +
      'together), shown in the last two columns. ' +
      (result.idleMeasureSeconds === undefined
        ? ''
        : `Idle cores: each target's CPU (every thread of its process) over ${result.idleMeasureSeconds} s ` +
          'with no load at all, its group joined, measured before its run: what an idle instance costs. ') +
      `Load average at the start: ${result.loadAverage} on this shared machine.`,
    '',
    '| target | p50 ms | p99 ms | p99.9 ms | max ms | p50 / two-hop | p99 / two-hop | p50 goal | p99 goal | cores used | CPU per record | idle cores | broker GC pauses | from scheduled: p50 ms | p99 ms |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...result.runs.map(
      (run) =>
        `| ${runLabel(run.target, run.loops)} | ${latencyCells(judgedLatency(run))} | ${ratio(run.goals.p50Ratio)} | ` +
        `${ratio(run.goals.p99Ratio)} | ${verdict(run.goals.p50Met)} | ${verdict(run.goals.p99Met)} | ` +
        `${run.coresUsed === undefined ? 'n/a' : run.coresUsed.toFixed(2)} | ${run.cpuMicrosPerRecord === undefined ? 'n/a' : micros(run.cpuMicrosPerRecord)} | ` +
        `${run.idleCoresUsed === undefined ? 'n/a' : run.idleCoresUsed.toFixed(3)} | ` +
        `${gcPausesCell(run.brokerGcPauses)} | ${ms(run.latencyMs.p50)} | ${ms(run.latencyMs.p99)} |`,
    ),
    '',
    ...brokerPausesParagraph(result),
    'At this rate the cost is per Kafka request rather than per record: a fetch brings a record or two per ' +
      'partition, and each fetch costs a produce request and an offset commit for the few records it brought, so CPU per ' +
      'record is tens of times what a drain spends, and on a machine whose two cores the broker and the ' +
      'harness share, that CPU is where much of the latency comes from.',
    '',
    'Where the milliseconds go, from a second run of each target at the same rate with both topics stamped ' +
      "with the broker's append time (LogAppendTime) and an idle consumer, on a thread of its own too, " +
      'watching the input topic. The ' +
      "service's instants come from its output records (scored_time, latency_ms); broker and service times " +
      'are whole milliseconds, so p50 and p99 of a segment are coarse, but the means add up to the mean ' +
      'end-to-end exactly. The input fetch waits for the batch cycle in flight: kafkajs fetches again only ' +
      "once every batch of the last fetch is handled, and the service's handling includes the produce " +
      'acknowledgement (its offset commit is sent, and waited for only before the partition publishes again).',
    '',
    ...result.traces.flatMap(traceSection),
  ].join('\n');
}
