/**
 * The runs a benchmark is made of, each against a fresh target process on fresh topics: an open-loop run
 * at a fixed rate or on a ramp, the search for the highest rate with flat lag, and draining a backlog
 * (capacity with nothing else competing for the CPU).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { IHeaders, Kafka, Message } from 'kafkajs';
import { createTopics, deleteTopics, uniqueName, waitForStableGroup } from './broker.js';
import { createEventSource, type EventSource, eventCodec, type StreamKind } from './events.js';
import { harnessProducer, joinedConsumer, type OpenLoopResult, runOpenLoop } from './open-loop.js';
import type { BenchOptions } from './options.js';
import type { RampRates } from './schedule.js';
import {
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

async function withTarget<T>(
  context: BenchContext,
  kind: TargetKind,
  inputTopic: string,
  outputTopic: string,
  use: (target: RunningTarget) => Promise<T>,
  telemetry?: TelemetrySetting,
): Promise<{ value: T; stats: TargetStats }> {
  const groupId = uniqueName(`${kind}-group`);
  const target = await startTarget(kind, {
    brokers: context.options.brokers,
    inputTopic,
    outputTopic,
    groupId,
    model: context.options.model,
    sampleIntervalMs: context.options.sampleSeconds * 1000,
    ...(telemetry ? { telemetry } : {}),
  });
  let stopped = false;
  try {
    await waitForStableGroup(context.kafka, groupId);
    const value = await use(target);
    stopped = true;
    return { value, stats: await target.stop() };
  } finally {
    if (!stopped) await target.stop().catch(() => undefined);
  }
}

export async function openLoopAgainst(
  context: BenchContext,
  kind: TargetKind,
  load: number | RampRates,
  stream: StreamKind,
  timing: Timing,
  label: string,
): Promise<OpenLoopRun> {
  const inputTopic = uniqueName(`${kind}-in`);
  const outputTopic = uniqueName(`${kind}-out`);
  // The service refuses to start without its dead-letter topic.
  await createTopics(
    context.kafka,
    [inputTopic, outputTopic, `${inputTopic}.DLT`],
    context.options.partitions,
  );
  try {
    const { value: run, stats } = await withTarget(context, kind, inputTopic, outputTopic, (target) =>
      runOpenLoop(context.kafka, {
        label,
        inputTopic,
        outputTopic,
        ...(typeof load === 'number' ? { ratePerSecond: load } : { ramp: load }),
        ...timing,
        tickMs: context.options.tickMs,
        source: createEventSource(stream),
        onWindowStart: () => target.mark(),
      }),
    );
    return { target: kind, stream, run, stats };
  } finally {
    await deleteTopics(context.kafka, [inputTopic, outputTopic, `${inputTopic}.DLT`]);
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

/**
 * Bisects between 30% and 150% of the drain rate. The open-loop maximum is usually below the drain rate,
 * because the generator and the latency consumer now share the machine, but a drain rate measured on a
 * bad second must not cap the search.
 */
export async function searchMaxRate(
  context: BenchContext,
  kind: TargetKind,
  drainRate: number,
): Promise<MaxRateSearch> {
  const { options } = context;
  const upperBound = Math.round(drainRate * SEARCH_CEILING);
  let low = Math.round(drainRate * SEARCH_FLOOR);
  let high = upperBound;
  let best: number | undefined;
  const steps: SearchStep[] = [];
  for (let step = 0; step < options.searchSteps; step++) {
    const rate = Math.round((low + high) / 2);
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
      `search ${TARGET_LABELS[kind]} ${step + 1}/${options.searchSteps}`,
    );
    const held = sustained(run);
    steps.push({
      rate,
      sustained: held,
      generatorLimited: run.sendRate < MIN_SEND_SHARE * run.offeredRate,
      lagGrowthSeconds: run.lagGrowthSeconds,
      lagAtEnd: run.lagAtEnd,
      p99Ms: run.latencyMs.p99,
      cpuMicrosPerOutput: stats.cpuMicrosPerOutput,
    });
    process.stderr.write(
      `  ${TARGET_LABELS[kind]} at ${rate}/s: ${held ? 'held' : 'fell behind'} (lag grew ${run.lagGrowthSeconds.toFixed(2)} s of traffic)\n`,
    );
    if (held) {
      best = rate;
      low = rate;
    } else {
      high = rate;
    }
  }
  return {
    target: kind,
    maxRate: best ?? low,
    verified: best !== undefined,
    lowerBound: Math.round(drainRate * SEARCH_FLOOR),
    upperBound,
    steps,
  };
}

const BACKLOG_CHUNK = 2_000;

export async function publishBacklog(
  kafka: Kafka,
  topic: string,
  source: EventSource,
  count: number,
  headersFor?: (sequence: number) => IHeaders,
): Promise<void> {
  const producer = harnessProducer(kafka);
  await producer.connect();
  try {
    for (let start = 0; start < count; start += BACKLOG_CHUNK * 4) {
      const sends: Promise<unknown>[] = [];
      for (let chunk = start; chunk < Math.min(count, start + BACKLOG_CHUNK * 4); chunk += BACKLOG_CHUNK) {
        const messages: Message[] = [];
        for (let sequence = chunk; sequence < Math.min(count, chunk + BACKLOG_CHUNK); sequence++) {
          const event = source.next(sequence);
          messages.push({
            key: event.account_id,
            value: eventCodec.encode(event),
            ...(headersFor ? { headers: headersFor(sequence) } : {}),
          });
        }
        sends.push(producer.send({ topic, messages, acks: -1 }));
      }
      await Promise.all(sends);
    }
  } finally {
    await producer.disconnect();
  }
}

export interface DrainRun {
  target: TargetKind;
  stream: StreamKind;
  backlog: number;
  /** Outputs per second from the first output to the last (or to the time limit). */
  rate: number;
  outputs: number;
  seconds: number;
  completed: boolean;
  stats: TargetStats;
}

/** The target starts on a topic already holding `backlog` events and runs until it caught up or time ran out. */
export async function drainCapacity(
  context: BenchContext,
  kind: TargetKind,
  backlogTopic: string,
  backlog: number,
  stream: StreamKind,
  telemetry?: TelemetrySetting,
): Promise<DrainRun> {
  const outputTopic = uniqueName(`${kind}-drain-out`);
  await createTopics(context.kafka, [outputTopic], context.options.partitions);
  let outputs = 0;
  let firstBatch = 0;
  let firstAt = 0;
  let lastAt = 0;
  let current: RunningTarget | undefined;
  const reader = await joinedConsumer(context.kafka, outputTopic, (values, receivedAt) => {
    if (outputs === 0) {
      firstAt = receivedAt;
      firstBatch = values.length;
      // The target's CPU and event-loop figures cover the same span as the rate.
      current?.mark();
    }
    outputs += values.length;
    lastAt = receivedAt;
  });
  try {
    const { value: completed, stats } = await withTarget(
      context,
      kind,
      backlogTopic,
      outputTopic,
      async (target) => {
        current = target;
        const startedAt = performance.now();
        let progressAt = startedAt;
        const limitMs = context.options.drainTimeoutSeconds * 1000;
        while (outputs < backlog) {
          const now = performance.now();
          if (outputs > 0 ? now - firstAt > limitMs : now - startedAt > limitMs * 2) return false;
          if (now - progressAt >= 1_000) {
            process.stderr.write(`  drain ${TARGET_LABELS[kind]} (${stream}): ${outputs}/${backlog}\n`);
            progressAt = now;
          }
          await sleep(50);
        }
        return true;
      },
      telemetry,
    );
    const seconds = (lastAt - firstAt) / 1000;
    return {
      target: kind,
      stream,
      backlog,
      rate: seconds > 0 ? (outputs - firstBatch) / seconds : 0,
      outputs,
      seconds,
      completed,
      stats,
    };
  } finally {
    await reader.disconnect();
    await deleteTopics(context.kafka, [outputTopic]);
  }
}
