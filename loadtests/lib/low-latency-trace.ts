/**
 * A steady open-loop run that records, for every event, the instants of lib/low-latency-breakdown.ts: the
 * generator is runOpenLoop's (same schedule, same tick, same producer), and so is the reader, on a thread of
 * its own; beside it an idle consumer on another thread watches the input topic, and both topics stamp
 * records with the broker's append time (LogAppendTime), so each hop through the broker is seen from both
 * ends. The service's own instants come from its output records: scored_time (Date.now() when the scores
 * were ready) and latency_ms (from the batch's fetch to then).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs, { type Kafka, type Message, type Producer } from 'kafkajs';
import { createTopics, deleteTopics, uniqueName, waitForStableGroup } from './broker.js';
import { createEventSource, eventCodec, predictionCodec, readSequence } from './events.js';
import {
  breakdownOf,
  createTimeline,
  type EventTimeline,
  type LatencyBreakdown,
  PIPE_SEGMENTS,
  SERVICE_SEGMENTS,
} from './low-latency-breakdown.js';
import { harnessProducer } from './open-loop.js';
import { type ThreadedReader, threadedReader } from './reader-thread.js';
import { type BenchContext, membersOf } from './scenarios.js';
import { fixedRateSchedule } from './schedule.js';
import { startTarget, type TargetKind } from './targets.js';

// kafkajs's enums are spread into its CommonJS exports, which ES named imports cannot see.
const { ConfigResourceTypes } = kafkajs;

export interface TraceRun {
  target: TargetKind;
  loops: number | 'auto' | undefined;
  rate: number;
  warmupSeconds: number;
  measureSeconds: number;
  breakdown: LatencyBreakdown;
}

/** Whole milliseconds stand for the millisecond they truncate: its middle is the unbiased estimate. */
const CENTRE_MS = 0.5;
const CLOCK_SAMPLES = 50;

/**
 * Offset from performance's clock to Date.now()'s, so the harness's sub-millisecond instants and the
 * broker's and service's whole milliseconds share one scale. Sampled a millisecond apart, so the samples
 * fall at all phases of Date.now()'s millisecond and its truncation averages out. The clock it returns
 * reads now, or converts an instant of performance.now().
 */
async function wallClock(): Promise<(at?: number) => number> {
  let sum = 0;
  for (let sample = 0; sample < CLOCK_SAMPLES; sample++) {
    sum += Date.now() + CENTRE_MS - (performance.timeOrigin + performance.now());
    await sleep(1);
  }
  const offset = performance.timeOrigin + sum / CLOCK_SAMPLES;
  return (at = performance.now()) => offset + at;
}

async function stampAppendTime(kafka: Kafka, topics: readonly string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.alterConfigs({
      validateOnly: false,
      resources: topics.map((name) => ({
        type: ConfigResourceTypes.TOPIC,
        name,
        configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }],
      })),
    });
  } finally {
    await admin.disconnect();
  }
}

/**
 * A reader of `topic` from its beginning on a thread of its own, handing each record to `onRecord` with
 * its timestamp and its batch's arrival on the wall clock.
 */
function watch(
  brokers: readonly string[],
  topic: string,
  onRecord: (value: Buffer, timestamp: number, receivedAt: number) => void,
  wall: (at: number) => number,
): Promise<ThreadedReader> {
  return threadedReader(
    { brokers, topic, groupPrefix: 'latency-watch' },
    (values, timestamps, receivedAt) => {
      const at = wall(receivedAt);
      for (let index = 0; index < values.length; index++) {
        const value = values[index];
        if (value) onRecord(value, timestamps[index]!, at);
      }
    },
  );
}

interface ScoringInstants {
  scored_time: number;
  latency_ms: number;
}

export async function traceSteadyRun(
  context: BenchContext,
  target: TargetKind,
  rate: number,
  window: { warmupSeconds: number; measureSeconds: number },
  loops?: number | 'auto',
): Promise<TraceRun> {
  const { kafka, options } = context;
  const inputTopic = uniqueName(`latency-${target}-in`);
  const outputTopic = uniqueName(`latency-${target}-out`);
  const groupId = uniqueName(`latency-${target}-group`);
  const topics = [inputTopic, `${inputTopic}.DLT`, outputTopic];
  await createTopics(kafka, topics, options.partitions);
  await stampAppendTime(kafka, [inputTopic, outputTopic]);
  const schedule = fixedRateSchedule(rate, window);
  const timeline = createTimeline(schedule.total);
  const scored = target === 'bare-pipe' ? undefined : timeline;
  const now = await wallClock();
  const record = (field: Float64Array, sequence: number, value: number) => {
    if (sequence < schedule.total && Number.isNaN(field[sequence]!)) field[sequence] = value;
  };

  const running = await startTarget(target, {
    brokers: options.brokers,
    inputTopic,
    outputTopic,
    groupId,
    model: options.model,
    sampleIntervalMs: options.sampleSeconds * 1000,
    ...(loops !== undefined ? { loops } : {}),
  });
  const readers: ThreadedReader[] = [];
  const producer = harnessProducer(kafka);
  try {
    await producer.connect();
    await waitForStableGroup(kafka, groupId, membersOf(target, loops));
    readers.push(
      await watch(
        options.brokers,
        inputTopic,
        (value, timestamp, receivedAt) => {
          const sequence = readSequence(value);
          record(timeline.inputAppendedAt, sequence, timestamp + CENTRE_MS);
          record(timeline.inputObservedAt, sequence, receivedAt);
        },
        now,
      ),
      await watch(
        options.brokers,
        outputTopic,
        (value, timestamp, receivedAt) => {
          const sequence = readSequence(value);
          record(timeline.outputAppendedAt, sequence, timestamp + CENTRE_MS);
          record(timeline.receivedAt, sequence, receivedAt);
          if (!scored || sequence >= schedule.total || !Number.isNaN(scored.scoredAt[sequence]!)) return;
          const prediction = predictionCodec.decode(value) as ScoringInstants;
          scored.scoredAt[sequence] = prediction.scored_time + CENTRE_MS;
          scored.fetchedAt[sequence] = prediction.scored_time + CENTRE_MS - prediction.latency_ms;
        },
        now,
      ),
    );
    await generate(producer, inputTopic, schedule, timeline, now, options.tickMs, () => running.mark());
    await awaitOutputs(timeline, schedule.warmupEvents);
  } finally {
    await Promise.all([producer.disconnect(), ...readers.map((reader) => reader.disconnect())]);
    await running.stop().catch(() => undefined);
    await deleteTopics(kafka, [...topics, `${groupId}.deployments`]);
  }
  return {
    target,
    loops,
    rate,
    ...window,
    breakdown: breakdownOf(timeline, schedule.warmupEvents, scored ? SERVICE_SEGMENTS : PIPE_SEGMENTS),
  };
}

/** runOpenLoop's generator: every tick, what is due goes out in one send, acks=all. */
async function generate(
  producer: Producer,
  topic: string,
  schedule: ReturnType<typeof fixedRateSchedule>,
  timeline: EventTimeline,
  now: (at?: number) => number,
  tickMs: number,
  onWindowStart: () => void,
): Promise<void> {
  const source = createEventSource('unique');
  const t0 = now();
  let sent = 0;
  let windowStarted = false;
  while (sent < schedule.total) {
    const elapsed = now() - t0;
    const upTo = schedule.dueBy(elapsed);
    if (!windowStarted && upTo > schedule.warmupEvents) {
      windowStarted = true;
      onWindowStart();
    }
    if (upTo > sent) {
      const sentAt = now();
      const messages: Message[] = new Array(upTo - sent);
      for (let sequence = sent; sequence < upTo; sequence++) {
        const event = source.next(sequence);
        timeline.scheduledAt[sequence] = t0 + schedule.scheduledAtMs(sequence);
        timeline.sentAt[sequence] = sentAt;
        messages[sequence - sent] = { key: event.account_id, value: eventCodec.encode(event) };
      }
      sent = upTo;
      void producer.send({ topic, messages, acks: -1 }).catch(() => undefined);
    }
    await sleep(tickMs);
  }
}

const GRACE_MS = 3_000;

/** Until every measured event's output has arrived, or the grace period is over. */
async function awaitOutputs(timeline: EventTimeline, firstMeasured: number): Promise<void> {
  const deadline = performance.now() + GRACE_MS;
  const missing = () => {
    for (let event = firstMeasured; event < timeline.receivedAt.length; event++) {
      if (Number.isNaN(timeline.receivedAt[event]!)) return true;
    }
    return false;
  };
  while (missing() && performance.now() < deadline) await sleep(50);
}
