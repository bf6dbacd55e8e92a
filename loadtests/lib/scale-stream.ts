/**
 * An open-loop stream with no fixed end, for runs whose steps wait on what they observe (instances joining
 * and leaving a group): event i is due at t0 + i / rate, as in lib/open-loop.ts, and its latency is
 * measured from that scheduled time. While it runs it says how far behind the predictions are (lag: events
 * due minus distinct events predicted) and keeps a latency histogram per segment (a segment per change of
 * the group); the output side, silences and the delivery audit are lib/scale-output.ts's.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka, Message } from 'kafkajs';
import { createEventSource, eventCodec } from './events.js';
import { createLatencyRecorder, type LatencyRecorder, type LatencySummary } from './latency.js';
import { harnessProducer } from './open-loop.js';
import { type DeliveryAudit, type OutputGap, trackOutput } from './scale-output.js';

export interface StreamPlan {
  label: string;
  inputTopic: string;
  outputTopic: string;
  outputPartitions: number;
  rate: number;
  tickMs: number;
  /** Longest the stream may run: sizes the per-event arrays. */
  maxSeconds: number;
  /**
   * The first event's id: the stream's ids start there, and predictions of lower ids already in the output
   * topic (a drain's, by the same instances) are passed over. 0 when absent.
   */
  firstId?: number;
}

export interface LagPoint {
  /** Milliseconds since t0. */
  atMs: number;
  lag: number;
}

export interface SegmentLatency {
  name: string;
  /** Seconds since t0 from which its events are due. */
  fromSeconds: number;
  latencyMs: LatencySummary;
}

export interface LiveStream {
  readonly rate: number;
  /** performance.now() when the first event was due. */
  readonly t0: number;
  /** Milliseconds since t0. */
  elapsedMs(): number;
  lag(): number;
  /** Events handed to the producer so far. */
  sent(): number;
  sendErrors(): number;
  /** Distinct events predicted so far. */
  predicted(): number;
  /** Predictions read so far, duplicates included. */
  outputRecords(): number;
  /** The lag every LAG_SAMPLE_MS. */
  readonly lagPoints: readonly LagPoint[];
  /** The output's silences, in milliseconds since t0. */
  gaps(): OutputGap[];
  /** Events due from now on count towards a new latency histogram. */
  startSegment(name: string): void;
  segments(): SegmentLatency[];
  /** Stops sending and waits until every sent event has a prediction or `graceMs` passed. */
  stopSending(graceMs: number): Promise<void>;
  /**
   * Once nothing writes to the output any more: reads it to the end offsets `ends` gives per partition and
   * checks every event sent. `inputRecords` is the input topic's record count.
   */
  audit(ends: ReadonlyMap<number, bigint>, inputRecords: number, timeoutMs: number): Promise<DeliveryAudit>;
  close(): Promise<void>;
}

export const LAG_SAMPLE_MS = 100;
const PROGRESS_MS = 2_000;

interface Segment {
  name: string;
  firstIndex: number;
  fromMs: number;
  latency: LatencyRecorder;
}

export async function startStream(kafka: Kafka, plan: StreamPlan): Promise<LiveStream> {
  const firstId = plan.firstId ?? 0;
  const capacity = Math.ceil(plan.rate * plan.maxSeconds);
  const segments: Segment[] = [];
  let t0 = Number.POSITIVE_INFINITY;
  // Events are numbered by index from 0, their ids from firstId.
  const due = (now: number) => Math.min(capacity, Math.floor(((now - t0) * plan.rate) / 1000) + 1);
  const scheduledAt = (index: number) => t0 + (index * 1000) / plan.rate;
  const output = await trackOutput(kafka, {
    topic: plan.outputTopic,
    partitions: plan.outputPartitions,
    capacity,
    firstId,
    onFirst(index, receivedAtMs) {
      let segment = segments.length - 1;
      while (segment > 0 && segments[segment]!.firstIndex > index) segment -= 1;
      segments[segment]?.latency.recordMillis(receivedAtMs - scheduledAt(index));
    },
  });
  const producer = harnessProducer(kafka);
  await producer.connect();

  const source = createEventSource('unique');
  let sent = 0;
  let sendErrors = 0;
  let sending = true;
  const inFlight = new Set<Promise<unknown>>();
  t0 = performance.now();
  segments.push({ name: 'start', firstIndex: 0, fromMs: 0, latency: createLatencyRecorder() });

  const lag = () => due(performance.now()) - output.predicted();
  const lagPoints: LagPoint[] = [];
  let lastProgress = t0;
  const sampler = setInterval(() => {
    const now = performance.now();
    lagPoints.push({ atMs: now - t0, lag: lag() });
    if (now - lastProgress >= PROGRESS_MS) {
      lastProgress = now;
      process.stderr.write(
        `  ${plan.label}  t=${((now - t0) / 1000).toFixed(0)}s  offered ${plan.rate}/s  lag ${lag()}\n`,
      );
    }
  }, LAG_SAMPLE_MS);

  const generator = (async () => {
    while (sending && sent < capacity) {
      const upTo = due(performance.now());
      if (upTo > sent) {
        const messages: Message[] = new Array(upTo - sent);
        for (let index = sent; index < upTo; index++) {
          const event = source.next(firstId + index);
          messages[index - sent] = { key: event.account_id, value: eventCodec.encode(event) };
        }
        sent = upTo;
        const send = producer.send({ topic: plan.inputTopic, messages, acks: -1 }).catch(() => {
          sendErrors += messages.length;
        });
        inFlight.add(send);
        void send.then(() => inFlight.delete(send));
      }
      await sleep(plan.tickMs);
    }
  })();

  return {
    rate: plan.rate,
    t0,
    elapsedMs: () => performance.now() - t0,
    lag,
    sent: () => sent,
    sendErrors: () => sendErrors,
    predicted: output.predicted,
    outputRecords: output.outputRecords,
    lagPoints,
    gaps: () => output.gaps.map((gap) => ({ ...gap, fromMs: gap.fromMs - t0, toMs: gap.toMs - t0 })),
    startSegment(name) {
      const now = performance.now();
      segments.push({ name, firstIndex: due(now), fromMs: now - t0, latency: createLatencyRecorder() });
    },
    segments: () =>
      segments.map((segment) => ({
        name: segment.name,
        fromSeconds: segment.fromMs / 1000,
        latencyMs: segment.latency.summary(),
      })),
    async stopSending(graceMs) {
      sending = false;
      await generator;
      await Promise.all(inFlight);
      const deadline = performance.now() + graceMs;
      while (output.predicted() < sent - sendErrors && performance.now() < deadline) await sleep(50);
      clearInterval(sampler);
    },
    audit: (ends, inputRecords, timeoutMs) =>
      output.audit({ sent, sendErrors, inputRecords }, ends, timeoutMs),
    async close() {
      sending = false;
      clearInterval(sampler);
      await generator;
      await Promise.all([output.close(), producer.disconnect()]);
    },
  };
}
