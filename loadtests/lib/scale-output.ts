/**
 * The output side of lib/scale-stream.ts: a read_committed reader of the predictions (what a downstream
 * consumer sees, under exactly-once too) that counts each event's predictions by its index, records every
 * silence of the output overall and per partition, and, once nothing writes any more, reads on to the
 * topic's end offsets and checks every event sent: the delivery audit.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka } from 'kafkajs';
import { uniqueName } from './broker.js';
import { readSequence } from './events.js';

/** A time the whole output (partition -1) or one output partition received nothing; performance.now(). */
export interface OutputGap {
  partition: number;
  fromMs: number;
  toMs: number;
}

export interface DeliveryAudit {
  /** Events handed to the producer. */
  sent: number;
  sendErrors: number;
  /** Records in the input topic: more than `sent` means the harness's producer wrote some twice. */
  inputRecords: number;
  /** Predictions read back to the output's end offsets (read_committed), of the events sent. */
  outputRecords: number;
  /** Events with at least one prediction. */
  predicted: number;
  /** Events sent that have no prediction. */
  lost: number;
  /** Ids of the first few. */
  lostExamples: number[];
  /** Predictions beyond the first of their event. */
  duplicates: number;
  /** False when the reader did not reach the output's end offsets in time: the counts are then a floor. */
  readToEnd: boolean;
}

export interface OutputPlan {
  topic: string;
  partitions: number;
  /** Events the arrays have room for, by index. */
  capacity: number;
  /** Event id of index 0; predictions of lower ids (an earlier drain's) are passed over. */
  firstId: number;
  /** Called once per event, at its first prediction. */
  onFirst(index: number, receivedAtMs: number): void;
}

export interface OutputTracker {
  predicted(): number;
  /** Predictions read so far, duplicates included. */
  outputRecords(): number;
  /** Silences of at least GAP_MIN_MS. */
  readonly gaps: readonly OutputGap[];
  /** Reads on until the reader has reached `ends` (per partition) or `timeoutMs`, then checks events 0 to sent - 1. */
  audit(
    sent: { sent: number; sendErrors: number; inputRecords: number },
    ends: ReadonlyMap<number, bigint>,
    timeoutMs: number,
  ): Promise<DeliveryAudit>;
  close(): Promise<void>;
}

/** Shorter silences are the ordinary rhythm of fetches and batches. */
export const GAP_MIN_MS = 100;
const LOST_EXAMPLES = 5;

export async function trackOutput(kafka: Kafka, plan: OutputPlan): Promise<OutputTracker> {
  const { capacity, firstId } = plan;
  const predictions = new Uint8Array(capacity);
  let predicted = 0;
  let outputRecords = 0;
  const positions = new Map<number, bigint>();
  const lastAt = new Float64Array(plan.partitions).fill(Number.NaN);
  let lastAnyAt = Number.NaN;
  const gaps: OutputGap[] = [];
  const noteGap = (partition: number, fromMs: number, toMs: number) => {
    if (toMs - fromMs >= GAP_MIN_MS) gaps.push({ partition, fromMs, toMs });
  };

  const consumer = kafka.consumer({
    groupId: uniqueName('scale-reader'),
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  // Batches of aborted records or of a commit marker alone reach no handler, but they move the position.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) =>
    positions.set(payload.partition, BigInt(payload.lastOffset) + 1n),
  );
  await consumer.subscribe({ topics: [plan.topic], fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      if (batch.messages.length === 0) return;
      const now = performance.now();
      noteGap(-1, lastAnyAt, now);
      noteGap(batch.partition, lastAt[batch.partition]!, now);
      lastAnyAt = now;
      lastAt[batch.partition] = now;
      for (const { value } of batch.messages) {
        if (value === null) continue;
        const index = readSequence(value) - firstId;
        if (index < 0 || index >= capacity) continue;
        outputRecords += 1;
        const times = predictions[index]!;
        if (times < 255) predictions[index] = times + 1;
        if (times > 0) continue;
        predicted += 1;
        plan.onFirst(index, now);
      }
    },
  });
  await joined;

  return {
    predicted: () => predicted,
    outputRecords: () => outputRecords,
    gaps,
    async audit({ sent, sendErrors, inputRecords }, ends, timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      const reached = () =>
        [...ends].every(([partition, end]) => end === 0n || (positions.get(partition) ?? 0n) >= end);
      while (!reached() && performance.now() < deadline) await sleep(100);
      let duplicates = 0;
      let lost = 0;
      const lostExamples: number[] = [];
      for (let index = 0; index < sent; index++) {
        const times = predictions[index]!;
        if (times > 1) duplicates += times - 1;
        if (times === 0) {
          lost += 1;
          if (lostExamples.length < LOST_EXAMPLES) lostExamples.push(firstId + index);
        }
      }
      return {
        sent,
        sendErrors,
        inputRecords,
        outputRecords,
        predicted,
        lost,
        lostExamples,
        duplicates,
        readToEnd: reached(),
      };
    },
    close: () => consumer.disconnect(),
  };
}
