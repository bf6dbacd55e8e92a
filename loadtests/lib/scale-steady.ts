/**
 * The steady phases of the scale-out benchmark: 1, 2 and 3 service instances in one group on a 6-partition
 * topic, each count in turn, ascending in odd rounds and descending in even ones so a slow stretch of the
 * shared machine does not always land on the same count. Each count's instances, once started, serve two
 * windows in a row:
 *
 * - a drain of a backlog that appears to all of them at once (lib/scale-drain.ts), with the group
 *   already Stable and every partition assigned, so no rebalance falls inside the window;
 * - then an open-loop window at one fixed rate (lib/scale-stream.ts, latency from each event's scheduled
 *   time), after a warm-up.
 *
 * CPU per record is the instances' CPU over the window, summed, over the records they published in it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { LatencySummary } from './latency.js';
import { lagSlope, type OpenLoopResult } from './open-loop.js';
import { loadAverage } from './rounds.js';
import { prepareDrain, type ScaleDrain } from './scale-drain.js';
import { fullyAssigned, type GroupMember, watchGroup } from './scale-group.js';
import { type ServiceInstance, startInstances, terminateAll } from './scale-instances.js';
import { startStream } from './scale-stream.js';
import { createScaleTopics, type InstanceTopics, SCALE_PARTITIONS } from './scale-topics.js';
import { cpuEach, type InstanceUsage, usage } from './scale-usage.js';
import { type BenchContext, sustained } from './scenarios.js';

export const INSTANCE_COUNTS = [1, 2, 3] as const;

/** 1, 2, 3 in odd rounds; 3, 2, 1 in even ones. */
export const countsInRound = (round: number) =>
  round % 2 === 1 ? [...INSTANCE_COUNTS] : [...INSTANCE_COUNTS].reverse();

export interface ScaleOpenLoop extends InstanceUsage {
  instances: number;
  round: number;
  loadAverage: number;
  offeredRate: number;
  sendRate: number;
  receiveRate: number;
  /** lib/scenarios.ts's verdict: flat lag, the generator on schedule. */
  sustained: boolean;
  lagGrowthSeconds: number;
  unreceived: number;
  latencyMs: LatencySummary;
}

const GROUP_TIMEOUT_MS = 60_000;
/** After the window, how long the stream waits for the predictions still due. */
const GRACE_MS = 5_000;

/**
 * The instances of one steady run, started together, the group awaited until Stable with every partition
 * assigned; stopped (SIGTERM) and the topics deleted whatever `use` does.
 */
async function withInstances<T>(
  context: BenchContext,
  topics: InstanceTopics,
  names: readonly string[],
  use: (instances: ServiceInstance[], assignment: GroupMember[]) => Promise<T>,
): Promise<T> {
  const watch = await watchGroup(context.kafka, topics.groupId, topics.input);
  let instances: ServiceInstance[] = [];
  try {
    const assigned = watch.waitFor(
      (snapshot) => fullyAssigned(snapshot, names.length, SCALE_PARTITIONS),
      GROUP_TIMEOUT_MS,
    );
    instances = await startInstances(topics, names, 'at-least-once');
    const snapshot = await assigned;
    if (!snapshot) throw new Error(`${names.length} instances did not share the partitions within 60 s`);
    return await use(instances, snapshot.members);
  } finally {
    await watch.stop();
    await terminateAll(instances);
  }
}

export interface SteadyTiming {
  backlog: number;
  /** A drain still running this long after the backlog appeared is cut short (completed: false). */
  drainLimitSeconds: number;
  warmupSeconds: number;
  measureSeconds: number;
  tickMs: number;
}

export interface SteadyBlock {
  drain: ScaleDrain;
  openLoop: ScaleOpenLoop;
}

/** The open-loop window: `rate` after a warm-up, its events numbered on from the drain's. */
async function openLoopWindow(
  context: BenchContext,
  topics: InstanceTopics,
  instances: readonly ServiceInstance[],
  assignment: GroupMember[],
  rate: number,
  timing: SteadyTiming,
  label: string,
): Promise<Omit<ScaleOpenLoop, 'instances' | 'round' | 'loadAverage'>> {
  const { warmupSeconds, measureSeconds } = timing;
  const stream = await startStream(context.kafka, {
    label,
    inputTopic: topics.input,
    outputTopic: topics.output,
    outputPartitions: SCALE_PARTITIONS,
    rate,
    tickMs: timing.tickMs,
    maxSeconds: warmupSeconds + measureSeconds + 5,
    firstId: timing.backlog,
  });
  try {
    await sleep(warmupSeconds * 1000);
    stream.startSegment('measured');
    const startCpu = cpuEach(instances);
    const startOutputs = stream.outputRecords();
    await sleep(measureSeconds * 1000);
    const endCpu = cpuEach(instances);
    const outputs = stream.outputRecords() - startOutputs;
    const sendRate = stream.sent() / (stream.elapsedMs() / 1000);
    stream.startSegment('after');
    await stream.stopSending(GRACE_MS);
    const windowPoints = stream.lagPoints
      .filter(({ atMs }) => atMs >= warmupSeconds * 1000 && atMs <= (warmupSeconds + measureSeconds) * 1000)
      .map(({ atMs, lag }) => ({ seconds: atMs / 1000, lag }));
    const run: OpenLoopResult = {
      offeredRate: rate,
      sendRate,
      receiveRate: outputs / measureSeconds,
      scheduled: stream.sent(),
      sendErrors: stream.sendErrors(),
      unreceived: stream.sent() - stream.sendErrors() - stream.predicted(),
      latencyMs: stream.segments().find(({ name }) => name === 'measured')!.latencyMs,
      lagGrowthSeconds: (lagSlope(windowPoints) * measureSeconds) / rate,
      lagAtEnd: windowPoints.at(-1)?.lag ?? 0,
      lagSamples: [],
      intervals: [],
    };
    return {
      offeredRate: rate,
      sendRate,
      receiveRate: run.receiveRate,
      sustained: sustained(run),
      lagGrowthSeconds: run.lagGrowthSeconds,
      unreceived: run.unreceived,
      latencyMs: run.latencyMs,
      ...usage(startCpu, endCpu, measureSeconds, outputs, assignment),
    };
  } finally {
    await stream.close();
  }
}

/**
 * `count` instances: a drain of `timing.backlog` events, then an open-loop window at the rate `rateFor`
 * picks from that drain (the first block of a run sets the rate of all of them).
 */
export async function steadyBlock(
  context: BenchContext,
  count: number,
  round: number,
  timing: SteadyTiming,
  rateFor: (drain: ScaleDrain) => number,
): Promise<SteadyBlock> {
  const { kafka, options } = context;
  const topics = await createScaleTopics(kafka, options.brokers, options.model, `n${count}`);
  const drain = await prepareDrain(kafka, topics.input, topics.output, timing.backlog);
  const names = Array.from({ length: count }, (_, index) => `r${round}-n${count}-${index + 1}`);
  try {
    return await withInstances(context, topics, names, async (instances, assignment) => {
      const drainLoad = loadAverage();
      const drained: ScaleDrain = {
        instances: count,
        round,
        loadAverage: drainLoad,
        ...(await drain.run(instances, assignment, timing.drainLimitSeconds)),
      };
      process.stderr.write(`  ${count} instance(s), round ${round}: ${drainLine(drained)}\n`);
      // The drain's reader goes before the open-loop window, which reads the output on its own.
      await drain.close();
      const openLoopLoad = loadAverage();
      const label = `${count} instance(s), round ${round}`;
      const rate = rateFor(drained);
      const window = await openLoopWindow(context, topics, instances, assignment, rate, timing, label);
      return { drain: drained, openLoop: { instances: count, round, loadAverage: openLoopLoad, ...window } };
    });
  } finally {
    await drain.close();
    await topics.remove();
  }
}

const drainLine = (drain: ScaleDrain) =>
  drain.completed
    ? `drained at ${drain.rate.toFixed(0)}/s, ${drain.cpuMicrosPerRecord.toFixed(1)} µs CPU per record, ${drain.coresUsed.toFixed(2)} cores`
    : `${drain.stalled ? 'stalled' : 'ran out of time'} after ${drain.outputs} of ${drain.backlog}`;
