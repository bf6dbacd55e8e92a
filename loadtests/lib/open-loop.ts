/**
 * The open-loop load generator and the latency consumer. Event i is due at t0 plus its offset in the
 * schedule (i / rate, or the ramp's) whatever happened to the events before it, and its latency is
 * measured from that scheduled time, not from when the generator got round to sending it: a stall
 * anywhere (generator, broker, service) shows up in the latency of every event scheduled during it
 * instead of slowing the offered load (coordinated omission). Latency from the moment the generator handed
 * the event to kafkajs is kept beside it: that is where a producer's own clock starts, and where Kafka's
 * EndToEndLatency tool starts its clock; the difference between the two is the generator's tick.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Consumer, type Kafka, type Message, Partitioners, type Producer } from 'kafkajs';
import { uniqueName } from './broker.js';
import { type EventSource, eventCodec, readSequence } from './events.js';
import { createLatencyRecorder, type LatencySummary } from './latency.js';
import { threadedReader } from './reader-thread.js';
import { fixedRateSchedule, type RampRates, rampSchedule, type SendSchedule } from './schedule.js';

/** The scheduled send time travels with each event too, for anyone reading the input topic. */
export const SCHEDULED_AT_HEADER = 'x-scheduled-at-us';

/** A fixed rate, or a ramp: `fromRate` through the warm-up, then linearly to `toRate` over the window. */
type OfferedLoad = { ratePerSecond: number } | { ramp: RampRates };

export type OpenLoopPlan = OfferedLoad & {
  /** Prefix of the progress lines. */
  label: string;
  /** For the reader, which runs on a thread of its own (lib/reader-thread.ts). */
  brokers: readonly string[];
  inputTopic: string;
  outputTopic: string;
  warmupSeconds: number;
  measureSeconds: number;
  tickMs: number;
  /** After the last scheduled send, how long to wait for the predictions still outstanding. */
  graceSeconds: number;
  source: EventSource;
  /** Called when the measured window starts, after the warm-up. */
  onWindowStart?: () => void;
  /** Also summarise each interval of this many seconds (the soak's latency over time, the ramp's knee). */
  intervalSeconds?: number;
};

export interface IntervalSummary {
  /** End of the interval, in seconds since the first scheduled send. */
  seconds: number;
  /** Events the schedule made due during the interval, per second. */
  offeredRate: number;
  /** Events handed to kafkajs during the interval, per second: below offered, the generator fell behind. */
  sentRate: number;
  /** Outputs that arrived during the interval, per second, warm-up events included. */
  receivedRate: number;
  /** Events due minus outputs received at the end of the interval. */
  lag: number;
  /** Latency of the measured events whose output arrived during the interval. */
  latencyMs: LatencySummary;
}

export interface LagSample {
  seconds: number;
  /** Events due by the schedule minus outputs received. */
  lag: number;
}

export interface OpenLoopResult {
  /** The fixed rate, or a ramp's mean rate over the measured window. */
  offeredRate: number;
  /** Rate the generator actually handed events to kafkajs over the whole run. */
  sendRate: number;
  /** Rate outputs of measured events arrived over the measured window. */
  receiveRate: number;
  scheduled: number;
  sendErrors: number;
  /** Measured events whose output had not arrived by the end of the grace period. */
  unreceived: number;
  latencyMs: LatencySummary;
  /**
   * From the send call instead of the scheduled time: without the generator's own lateness. Absent where
   * the generator keeps no send times (the scale benchmark's own stream).
   */
  latencyFromSendMs?: LatencySummary;
  /** Growth of the lag over the measured window, in seconds of offered traffic (regression slope). */
  lagGrowthSeconds: number;
  lagAtEnd: number;
  lagSamples: LagSample[];
  intervals: IntervalSummary[];
  /**
   * From the window's start to the last measured output, on the wall clock (epoch ms), to set beside what
   * other processes log, such as the broker's GC pauses. Absent where the stream is not the generator's own
   * (the scale benchmark's).
   */
  measuredEpochMs?: { start: number; end: number };
}

const LAG_SAMPLE_MS = 250;
const PROGRESS_MS = 1_000;

/** The least-squares slope of lag against time, in events per second. */
export function lagSlope(samples: readonly LagSample[]): number {
  if (samples.length < 2) return 0;
  const meanX = samples.reduce((sum, s) => sum + s.seconds, 0) / samples.length;
  const meanY = samples.reduce((sum, s) => sum + s.lag, 0) / samples.length;
  let covariance = 0;
  let variance = 0;
  for (const { seconds, lag } of samples) {
    covariance += (seconds - meanX) * (lag - meanY);
    variance += (seconds - meanX) ** 2;
  }
  return variance === 0 ? 0 : covariance / variance;
}

export async function joinedConsumer(
  kafka: Kafka,
  topic: string,
  onBatch: (values: (Buffer | null)[], receivedAt: number) => void,
): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), allowAutoTopicCreation: false });
  await consumer.connect();
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      onBatch(
        batch.messages.map((message) => message.value),
        performance.now(),
      );
    },
  });
  await joined;
  return consumer;
}

export function harnessProducer(kafka: Kafka): Producer {
  // Not idempotent, so sends overlap instead of queueing one at a time behind maxInFlightRequests=1: the
  // generator must never be the one who slows down.
  return kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}

function scheduleOf(plan: OpenLoopPlan): SendSchedule {
  const window = { warmupSeconds: plan.warmupSeconds, measureSeconds: plan.measureSeconds };
  return 'ramp' in plan ? rampSchedule(plan.ramp, window) : fixedRateSchedule(plan.ratePerSecond, window);
}

export async function runOpenLoop(kafka: Kafka, plan: OpenLoopPlan): Promise<OpenLoopResult> {
  const { source } = plan;
  const schedule = scheduleOf(plan);
  const { total, warmupEvents: firstMeasured } = schedule;
  const measured = total - firstMeasured;
  const received = new Uint8Array(total);
  const sentAt = new Float64Array(total);
  const latency = createLatencyRecorder();
  const latencyFromSend = createLatencyRecorder();
  let intervalLatency = createLatencyRecorder();
  const intervals: IntervalSummary[] = [];
  let receivedCount = 0;
  let receivedMeasured = 0;
  let t0 = Number.POSITIVE_INFINITY;
  let lastMeasuredAt = 0;

  const readerSettings = { brokers: plan.brokers, topic: plan.outputTopic, groupPrefix: 'reader' };
  const reader = await threadedReader(readerSettings, (values, _timestamps, receivedAt) => {
    for (const value of values) {
      if (value === null) continue;
      const sequence = readSequence(value);
      // At-least-once delivery may hand us an output twice; the first one counts.
      if (sequence >= total || received[sequence] === 1) continue;
      received[sequence] = 1;
      receivedCount += 1;
      if (sequence >= firstMeasured) {
        receivedMeasured += 1;
        lastMeasuredAt = receivedAt;
        const latencyMs = receivedAt - (t0 + schedule.scheduledAtMs(sequence));
        latency.recordMillis(latencyMs);
        intervalLatency.recordMillis(latencyMs);
        latencyFromSend.recordMillis(receivedAt - sentAt[sequence]!);
      }
    }
  });
  const producer = harnessProducer(kafka);
  await producer.connect();

  let sent = 0;
  let sendErrors = 0;
  const lagSamples: LagSample[] = [];
  const due = (now: number) => schedule.dueBy(now - t0);

  t0 = performance.now();
  const windowStartsAt = t0 + plan.warmupSeconds * 1000;
  const lastDueAt = t0 + schedule.scheduledAtMs(total - 1);
  let windowStarted = false;
  let lastProgressAt = t0;
  let receivedAtLastProgress = 0;
  let intervalStart = { at: t0, due: 0, sent: 0, received: 0 };
  const closeInterval = (now: number, dueNow: number) => {
    const perSecond = (count: number) => (count * 1000) / (now - intervalStart.at);
    intervals.push({
      seconds: (now - t0) / 1000,
      offeredRate: perSecond(dueNow - intervalStart.due),
      sentRate: perSecond(sent - intervalStart.sent),
      receivedRate: perSecond(receivedCount - intervalStart.received),
      lag: dueNow - receivedCount,
      latencyMs: intervalLatency.summary(),
    });
    intervalLatency = createLatencyRecorder();
    intervalStart = { at: now, due: dueNow, sent, received: receivedCount };
  };

  const sampler = setInterval(() => {
    const now = performance.now();
    const dueNow = due(now);
    lagSamples.push({ seconds: (now - t0) / 1000, lag: dueNow - receivedCount });
    if (plan.intervalSeconds !== undefined && now - intervalStart.at >= plan.intervalSeconds * 1000) {
      closeInterval(now, dueNow);
    }
    if (now - lastProgressAt >= PROGRESS_MS) {
      const latest = latency.summary();
      const receiveRate = ((receivedCount - receivedAtLastProgress) * 1000) / (now - lastProgressAt);
      process.stderr.write(
        `  ${plan.label}  t=${((now - t0) / 1000).toFixed(0)}s  offered ${schedule.rateAt(now - t0).toFixed(0)}/s  ` +
          `received ${receiveRate.toFixed(0)}/s  lag ${dueNow - receivedCount}  ` +
          `p50 ${latest.p50.toFixed(1)} p99 ${latest.p99.toFixed(1)} max ${latest.max.toFixed(1)} ms\n`,
      );
      lastProgressAt = now;
      receivedAtLastProgress = receivedCount;
    }
  }, LAG_SAMPLE_MS);

  while (sent < total) {
    const now = performance.now();
    if (!windowStarted && now >= windowStartsAt) {
      windowStarted = true;
      plan.onWindowStart?.();
    }
    const upTo = due(now);
    if (upTo > sent) {
      const messages: Message[] = new Array(upTo - sent);
      for (let sequence = sent; sequence < upTo; sequence++) {
        const event = source.next(sequence);
        const scheduledMicros = Math.round(
          (performance.timeOrigin + t0 + schedule.scheduledAtMs(sequence)) * 1000,
        );
        messages[sequence - sent] = {
          key: event.account_id,
          value: eventCodec.encode(event),
          headers: { [SCHEDULED_AT_HEADER]: String(scheduledMicros) },
        };
      }
      sentAt.fill(performance.now(), sent, upTo);
      sent = upTo;
      producer.send({ topic: plan.inputTopic, messages, acks: -1 }).catch(() => {
        sendErrors += messages.length;
      });
    }
    await sleep(plan.tickMs);
  }
  const sendRate = sent / ((performance.now() - t0) / 1000);

  const graceEndsAt = Math.max(performance.now(), lastDueAt) + plan.graceSeconds * 1000;
  while (receivedMeasured < measured && performance.now() < graceEndsAt) await sleep(50);
  clearInterval(sampler);
  const endedAt = performance.now();
  // The grace wait usually ends mid-interval, which would leave the last seconds of the schedule (a ramp's
  // highest rates) out; a stub under half an interval is left out instead, its rates being mostly noise.
  if (plan.intervalSeconds !== undefined && endedAt - intervalStart.at >= plan.intervalSeconds * 500) {
    closeInterval(endedAt, due(endedAt));
  }
  // An output that never came is at least as late as the end of the wait; dropping it would flatter us.
  let unreceived = 0;
  for (let sequence = firstMeasured; sequence < total; sequence++) {
    if (received[sequence] === 1) continue;
    unreceived += 1;
    latency.recordMillis(endedAt - (t0 + schedule.scheduledAtMs(sequence)));
    latencyFromSend.recordMillis(endedAt - sentAt[sequence]!);
  }
  await Promise.all([reader.disconnect(), producer.disconnect()]);

  const windowSamples = lagSamples.filter(
    (sample) =>
      sample.seconds >= plan.warmupSeconds && sample.seconds <= plan.warmupSeconds + plan.measureSeconds,
  );
  const receivingSeconds = (lastMeasuredAt - windowStartsAt) / 1000;
  return {
    offeredRate: schedule.measuredRate,
    sendRate,
    receiveRate: receivingSeconds > 0 ? receivedMeasured / receivingSeconds : 0,
    scheduled: total,
    sendErrors,
    unreceived,
    latencyMs: latency.summary(),
    latencyFromSendMs: latencyFromSend.summary(),
    lagGrowthSeconds: (lagSlope(windowSamples) * plan.measureSeconds) / schedule.measuredRate,
    lagAtEnd: windowSamples.at(-1)?.lag ?? 0,
    // One sample a second is plenty for a chart and keeps the results file small.
    lagSamples: lagSamples.filter((_, index) => index % (1000 / LAG_SAMPLE_MS) === 0),
    intervals,
    measuredEpochMs: {
      start: performance.timeOrigin + windowStartsAt,
      end: performance.timeOrigin + Math.max(lastMeasuredAt, windowStartsAt),
    },
  };
}
