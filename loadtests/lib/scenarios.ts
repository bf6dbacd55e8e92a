/**
 * The runs a benchmark is made of, each against a fresh target process on fresh topics: an open-loop run
 * at a fixed rate or on a ramp, the search for the highest rate with flat lag, and draining a backlog
 * (capacity with nothing else competing for the CPU).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IHeaders, Kafka, Message } from 'kafkajs';
import { loopCount } from '../../src/loops/index.js';
import type { CardTransaction } from '../../src/sample/index.js';
import { createTopics, deleteTopics, uniqueName, waitForStableGroup } from './broker.js';
import { createEventSource, type EventSource, eventCodec, type StreamKind } from './events.js';
import { harnessProducer, joinedConsumer, type OpenLoopResult, runOpenLoop } from './open-loop.js';
import type { BenchOptions } from './options.js';
import { countOutputs } from './output-count.js';
import type { RampRates } from './schedule.js';
import {
  type MonitoringSetting,
  type RecordFormat,
  type RunningTarget,
  startTarget,
  TARGET_LABELS,
  type TargetKind,
  type TargetStats,
  type TelemetrySetting,
} from './targets.js';

export interface BenchContext {
  options: BenchOptions;
  kafka: Kafka;
}

export interface Timing {
  warmupSeconds: number;
  measureSeconds: number;
  graceSeconds: number;
  /** Also summarise each interval of this many seconds. */
  intervalSeconds?: number;
}

export interface OpenLoopRun {
  target: TargetKind;
  stream: StreamKind;
  run: OpenLoopResult;
  stats: TargetStats;
}

/** How a target is started beyond its kind, and what the caller wants to see of its output. */
export interface TargetSetup {
  /** Service only: OpenTelemetry on, exporting to a sink. */
  telemetry?: TelemetrySetting;
  /** The model repository to serve from; the package's models/ when absent. */
  modelRepository?: string;
  /** Service only: challengers it starts with; their comparisons get a topic of their own. */
  challengers?: string[];
  /** Where the target writes a CPU profile of its main thread over the measured window. */
  profilePath?: string;
  /** Service only: input and output format; plain Avro when absent. */
  format?: RecordFormat;
  /** Service only: the schema registry's base URL (registry.urls), which format confluent needs. */
  registryUrl?: string;
  /** Service only: monitoring settings (alerts, drift); the topics they name must exist. */
  monitoring?: MonitoringSetting;
  /** Service with loops only: input.loops; auto when absent. */
  loops?: number | 'auto';
  /** Service only: model.workers; auto when absent. */
  workers?: number | 'auto';
  /**
   * Called with the run's output topics before the target starts, so that what the target creates for them
   * (a registry subject) can be removed however the run ends.
   */
  onOutputTopics?: (topics: OutputTopics) => void;
  /** Drains only: the first prediction the target published, as it arrives (a look at its format). */
  onFirstOutput?: (value: Buffer | null) => void;
  /**
   * Drains only: where the measured window starts. `first-output` (the default) measures the whole drain;
   * `settled-group` starts once the target's consumer group is Stable with all its members, so that a
   * target of several members is measured without the rebalance its members' joins cause at the start.
   */
  measureFrom?: 'first-output' | 'settled-group';
  /**
   * Drains only: how outputs are counted. `records` (the default) reads every prediction with a consumer;
   * `end-offsets` reads the output topic's end offsets (lib/output-count.ts), leaving the machine's cores
   * to the target. No first output is seen then.
   */
  countOutputsBy?: 'records' | 'end-offsets';
  /** Called once the target has stopped, before the run's topics are deleted: a look at what it published. */
  inspectOutput?: (topics: OutputTopics) => Promise<void>;
}

export interface OutputTopics {
  predictions: string;
  /** `<predictions>.comparisons`, when the target runs challengers. */
  comparisons: string | undefined;
}

/** The service refuses to start challengers whose comparison topic does not exist. */
function outputTopicsOf(predictions: string, setup: TargetSetup): OutputTopics {
  const hasChallengers = (setup.challengers?.length ?? 0) > 0;
  return { predictions, comparisons: hasChallengers ? `${predictions}.comparisons` : undefined };
}

const topicList = ({ predictions, comparisons }: OutputTopics) =>
  comparisons === undefined ? [predictions] : [predictions, comparisons];

/** Members a target adds to its group: a service with loops joins once per loop. */
export const membersOf = (kind: TargetKind, loops: number | 'auto' | undefined) =>
  kind === 'service-loops' ? loopCount(loops ?? 'auto') : 1;

/**
 * Starts a target on the given topics, waits until its group is Stable with all its members, runs `use`,
 * stops it and returns what `use` returned with the target's figures over its measured window.
 */
export async function withTarget<T>(
  context: BenchContext,
  kind: TargetKind,
  inputTopic: string,
  outputTopic: string,
  use: (target: RunningTarget) => Promise<T>,
  setup: TargetSetup,
  onReady?: (target: RunningTarget) => void,
): Promise<{ value: T; stats: TargetStats }> {
  const groupId = uniqueName(`${kind}-group`);
  const { onOutputTopics, onFirstOutput, inspectOutput, measureFrom, countOutputsBy, ...settings } = setup;
  onOutputTopics?.(outputTopicsOf(outputTopic, setup));
  const target = await startTarget(kind, {
    brokers: context.options.brokers,
    inputTopic,
    outputTopic,
    groupId,
    model: context.options.model,
    sampleIntervalMs: context.options.sampleSeconds * 1000,
    ...settings,
  });
  onReady?.(target);
  let stopped = false;
  try {
    await waitForStableGroup(context.kafka, groupId, membersOf(kind, setup.loops));
    const value = await use(target);
    stopped = true;
    const stats = await target.stop();
    await inspectOutput?.(outputTopicsOf(outputTopic, setup));
    return { value, stats };
  } finally {
    if (!stopped) await target.stop().catch(() => undefined);
    // The service creates its deployments control topic (`<groupId>.deployments`) for each fresh group.
    if (kind === 'service' || kind === 'service-loops')
      await deleteTopics(context.kafka, [`${groupId}.deployments`]);
  }
}

export async function openLoopAgainst(
  context: BenchContext,
  kind: TargetKind,
  load: number | RampRates,
  stream: StreamKind,
  timing: Timing,
  label: string,
  setup: TargetSetup = {},
): Promise<OpenLoopRun> {
  const inputTopic = uniqueName(`${kind}-in`);
  const outputTopic = uniqueName(`${kind}-out`);
  // The service refuses to start without its dead-letter topic.
  const topics = [inputTopic, `${inputTopic}.DLT`, ...topicList(outputTopicsOf(outputTopic, setup))];
  await createTopics(context.kafka, topics, context.options.partitions);
  try {
    const { value: run, stats } = await withTarget(
      context,
      kind,
      inputTopic,
      outputTopic,
      (target) =>
        runOpenLoop(context.kafka, {
          label,
          brokers: context.options.brokers,
          inputTopic,
          outputTopic,
          ...(typeof load === 'number' ? { ratePerSecond: load } : { ramp: load }),
          ...timing,
          tickMs: context.options.tickMs,
          source: createEventSource(stream),
          onWindowStart: () => target.mark(),
        }),
      setup,
    );
    return { target: kind, stream, run, stats };
  } finally {
    await deleteTopics(context.kafka, topics);
  }
}

/** Lag that grew by more than this much traffic over the measured window means the target fell behind. */
const MAX_LAG_GROWTH_SECONDS = 0.25;
/** A target that is a second of traffic behind at the end of the window is not keeping up, flat or not. */
const MAX_LAG_AT_END_SECONDS = 1;
/** Below this share of the offered rate the generator, not the target, was the limit. */
const MIN_SEND_SHARE = 0.95;

export function sustained(run: OpenLoopResult): boolean {
  return (
    run.sendErrors === 0 &&
    run.sendRate >= MIN_SEND_SHARE * run.offeredRate &&
    run.lagGrowthSeconds < MAX_LAG_GROWTH_SECONDS &&
    run.lagAtEnd < MAX_LAG_AT_END_SECONDS * run.offeredRate
  );
}

/**
 * The maximum is only a lower bound when every probe held (the search never found the limit) or when the
 * probe above it failed because the generator could not keep its schedule (the harness was the limit).
 */
export const harnessBound = (search: MaxRateSearch) =>
  search.steps.every((step) => step.sustained) ||
  search.steps.some((step) => !step.sustained && step.generatorLimited && step.rate > search.maxRate);

const SEARCH_FLOOR = 0.3;
const SEARCH_CEILING = 1.5;

export interface SearchStep {
  rate: number;
  sustained: boolean;
  generatorLimited: boolean;
  lagGrowthSeconds: number;
  lagAtEnd: number;
  p99Ms: number;
  cpuMicrosPerOutput: number;
}

export interface MaxRateSearch {
  target: TargetKind;
  /** Highest offered rate whose lag stayed flat; the search's lower bound when no step held. */
  maxRate: number;
  /** False when no probed rate held, so maxRate is the untested lower bound. */
  verified: boolean;
  lowerBound: number;
  upperBound: number;
  steps: SearchStep[];
}

/** One step of a search: an open-loop run at `rate`, judged by `sustained`. */
export async function probeRate(
  context: BenchContext,
  kind: TargetKind,
  rate: number,
  label: string,
  setup: TargetSetup = {},
): Promise<{ step: SearchStep; stats: TargetStats }> {
  const { options } = context;
  const { run, stats } = await openLoopAgainst(
    context,
    kind,
    rate,
    'unique',
    {
      warmupSeconds: options.searchWarmupSeconds,
      measureSeconds: options.searchMeasureSeconds,
      graceSeconds: 1,
    },
    label,
    setup,
  );
  const held = sustained(run);
  process.stderr.write(
    `  ${label} at ${rate}/s: ${held ? 'held' : 'fell behind'} (lag grew ${run.lagGrowthSeconds.toFixed(2)} s of traffic)\n`,
  );
  return {
    step: {
      rate,
      sustained: held,
      generatorLimited: run.sendRate < MIN_SEND_SHARE * run.offeredRate,
      lagGrowthSeconds: run.lagGrowthSeconds,
      lagAtEnd: run.lagAtEnd,
      p99Ms: run.latencyMs.p99,
      cpuMicrosPerOutput: stats.cpuMicrosPerOutput,
    },
    stats,
  };
}

/**
 * Bisection between 30% and 150% of the drain rate. The open-loop maximum is usually below the drain rate,
 * because the generator and the latency consumer now share the machine, but a drain rate measured on a
 * bad second must not cap the search. Steps are taken one at a time, so two searches can be interleaved.
 */
export interface Bisection {
  nextRate(): number;
  record(step: SearchStep): void;
  result(): MaxRateSearch;
}

export function createBisection(kind: TargetKind, drainRate: number): Bisection {
  const lowerBound = Math.round(drainRate * SEARCH_FLOOR);
  const upperBound = Math.round(drainRate * SEARCH_CEILING);
  let low = lowerBound;
  let high = upperBound;
  let best: number | undefined;
  const steps: SearchStep[] = [];
  return {
    nextRate: () => Math.round((low + high) / 2),
    record(step) {
      steps.push(step);
      if (step.sustained) {
        best = step.rate;
        low = step.rate;
      } else {
        high = step.rate;
      }
    },
    result: () => ({
      target: kind,
      maxRate: best ?? low,
      verified: best !== undefined,
      lowerBound,
      upperBound,
      steps,
    }),
  };
}

export async function searchMaxRate(
  context: BenchContext,
  kind: TargetKind,
  drainRate: number,
): Promise<MaxRateSearch> {
  const { searchSteps } = context.options;
  const bisection = createBisection(kind, drainRate);
  for (let step = 0; step < searchSteps; step++) {
    const label = `search ${TARGET_LABELS[kind]} ${step + 1}/${searchSteps}`;
    bisection.record((await probeRate(context, kind, bisection.nextRate(), label)).step);
  }
  return bisection.result();
}

const BACKLOG_CHUNK = 2_000;

/** How publishBacklog writes a record beyond its key, the event's account. */
export interface BacklogRecords {
  /** The record's headers; none when absent. */
  headers?: (sequence: number) => IHeaders;
  /** The record's value; plain Avro when absent. */
  encode?: (event: CardTransaction) => Buffer;
}

/** Publishes events 0 to `count` - 1 of `source`; returns the bytes of the values published. */
export async function publishBacklog(
  kafka: Kafka,
  topic: string,
  source: EventSource,
  count: number,
  { headers, encode = (event) => eventCodec.encode(event) }: BacklogRecords = {},
): Promise<number> {
  const producer = harnessProducer(kafka);
  let bytes = 0;
  await producer.connect();
  try {
    for (let start = 0; start < count; start += BACKLOG_CHUNK * 4) {
      const sends: Promise<unknown>[] = [];
      for (let chunk = start; chunk < Math.min(count, start + BACKLOG_CHUNK * 4); chunk += BACKLOG_CHUNK) {
        const messages: Message[] = [];
        for (let sequence = chunk; sequence < Math.min(count, chunk + BACKLOG_CHUNK); sequence++) {
          const event = source.next(sequence);
          const value = encode(event);
          bytes += value.length;
          messages.push({ key: event.account_id, value, ...(headers ? { headers: headers(sequence) } : {}) });
        }
        sends.push(producer.send({ topic, messages, acks: -1 }));
      }
      await Promise.all(sends);
    }
  } finally {
    await producer.disconnect();
  }
  return bytes;
}

export interface DrainRun {
  target: TargetKind;
  stream: StreamKind;
  backlog: number;
  /** Outputs per second over the measured window: from its start to the last output (or the time limit). */
  rate: number;
  /** Where the window started (TargetSetup.measureFrom). */
  measuredFrom: 'first-output' | 'settled-group';
  /** How outputs were counted (TargetSetup.countOutputsBy); absent from results recorded before it was kept. */
  countedBy?: 'records' | 'end-offsets';
  outputs: number;
  seconds: number;
  completed: boolean;
  /** Ended because no output came for STALL_SECONDS: the target stopped making progress, not slowed down. */
  stalled: boolean;
  /**
   * Measured from the settled group, which settled only once the backlog was drained: nothing was measured,
   * and the drain does not count as completed. Absent from results recorded before it was kept.
   */
  drainedBeforeSettling?: boolean;
  /**
   * Cores the whole machine kept busy from the first output to the last (target, broker, reader, anything
   * else): how close a drain came to the machine's limit. Null when it did not finish or /proc is missing.
   */
  machineCoresBusy: number | null;
  /**
   * Cores this harness process used over the same span (the reading consumer, or the end-offset polls):
   * its share of what the target competes for. Absent from results recorded before it was kept.
   */
  harnessCores?: number | null;
  stats: TargetStats;
}

interface MachineCpu {
  busy: number;
  total: number;
}

/** The machine's CPU time so far from /proc/stat's first line, in clock ticks; undefined without /proc. */
function machineCpu(): MachineCpu | undefined {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const ticks = fields.map(Number);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    const total = ticks.slice(0, 8).reduce((sum, value) => sum + value, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

function coresBusyBetween(first: MachineCpu | undefined, last: MachineCpu | undefined): number | null {
  if (!first || !last || last.total <= first.total) return null;
  return ((last.busy - first.busy) / (last.total - first.total)) * availableParallelism();
}

/** A target draining a backlog publishes thousands of records a second: this long without one is a stall. */
const STALL_SECONDS = 5;

/** The target starts on a topic already holding `backlog` events and runs until it caught up or time ran out. */
export async function drainCapacity(
  context: BenchContext,
  kind: TargetKind,
  backlogTopic: string,
  backlog: number,
  stream: StreamKind,
  setup: TargetSetup = {},
): Promise<DrainRun> {
  const outputTopic = uniqueName(`${kind}-drain-out`);
  const outputTopics = topicList(outputTopicsOf(outputTopic, setup));
  await createTopics(context.kafka, outputTopics, context.options.partitions);
  const label = `drain ${TARGET_LABELS[kind]} (${stream}${setup.format ? `, ${setup.format}` : ''})`;
  const measuredFrom = setup.measureFrom ?? 'first-output';
  let outputs = 0;
  let firstAt = 0;
  let lastAt = 0;
  let current: RunningTarget | undefined;
  // The window's start: outputs counted and the machine's CPU by then. The target's CPU and event-loop
  // figures are marked at the same moment, so they cover the same span as the rate.
  let window:
    | { at: number; outputs: number; machine: MachineCpu | undefined; harness: NodeJS.CpuUsage }
    | undefined;
  let machineAtLast: MachineCpu | undefined;
  /** This process's CPU from the window's start to the last output, in microseconds. */
  let harnessToLast: { at: number; micros: number } | undefined;
  const startWindow = (at: number, counted: number) => {
    window = { at, outputs: counted, machine: machineCpu(), harness: process.cpuUsage() };
    current?.mark();
  };
  const counted = (added: number, receivedAt: number) => {
    if (outputs === 0) {
      firstAt = receivedAt;
      startWindow(receivedAt, added);
    }
    outputs += added;
    lastAt = receivedAt;
    if (outputs >= backlog) {
      machineAtLast ??= machineCpu();
      if (window && !harnessToLast) {
        const { user, system } = process.cpuUsage(window.harness);
        harnessToLast = { at: receivedAt, micros: user + system };
      }
    }
  };
  const reader =
    setup.countOutputsBy === 'end-offsets'
      ? await countOutputs(context.kafka, outputTopic, counted)
      : await joinedConsumer(context.kafka, outputTopic, (values, receivedAt) => {
          if (outputs === 0) setup.onFirstOutput?.(values[0] ?? null);
          counted(values.length, receivedAt);
        });
  try {
    let stalled = false;
    let drainedBeforeSettling = false;
    const { value: completed, stats } = await withTarget(
      context,
      kind,
      backlogTopic,
      outputTopic,
      async () => {
        // withTarget calls this once the group is Stable with every member; until then, one member may have
        // been draining alone.
        if (measuredFrom === 'settled-group' && outputs > 0) {
          if (outputs >= backlog) {
            drainedBeforeSettling = true;
            return false;
          }
          startWindow(performance.now(), outputs);
        }
        const startedAt = performance.now();
        let progressAt = startedAt;
        const limitMs = context.options.drainTimeoutSeconds * 1000;
        while (outputs < backlog) {
          const now = performance.now();
          if (outputs > 0 ? now - firstAt > limitMs : now - startedAt > limitMs * 2) return false;
          if (outputs > 0 && now - lastAt > STALL_SECONDS * 1000) {
            stalled = true;
            process.stderr.write(
              `  ${label}: stalled at ${outputs}/${backlog}, no output for ${STALL_SECONDS} s\n`,
            );
            return false;
          }
          if (now - progressAt >= 1_000) {
            process.stderr.write(`  ${label}: ${outputs}/${backlog}\n`);
            progressAt = now;
          }
          await sleep(50);
        }
        return true;
      },
      setup,
      // A target that started consuming before it reported ready (the loops join as they start) has its
      // window marked as soon as it is known: its CPU figures then cover the rest of the drain.
      (target) => {
        current = target;
        if (outputs > 0) target.mark();
      },
    );
    const seconds = window ? (lastAt - window.at) / 1000 : 0;
    return {
      target: kind,
      stream,
      backlog,
      rate: window && seconds > 0 ? (outputs - window.outputs) / seconds : 0,
      measuredFrom,
      countedBy: setup.countOutputsBy ?? 'records',
      outputs,
      seconds,
      machineCoresBusy: coresBusyBetween(window?.machine, machineAtLast),
      harnessCores:
        window && harnessToLast && harnessToLast.at > window.at
          ? harnessToLast.micros / 1000 / (harnessToLast.at - window.at)
          : null,
      completed,
      stalled,
      ...(drainedBeforeSettling ? { drainedBeforeSettling: true } : {}),
      stats,
    };
  } finally {
    await reader.disconnect();
    await deleteTopics(context.kafka, outputTopics);
  }
}
