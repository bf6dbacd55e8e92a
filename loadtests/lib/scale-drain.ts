/**
 * Several instances draining one backlog that appears to all of them at once. Its events are published
 * into one Kafka transaction left open while the instances start, and committed once the group is Stable
 * with every partition assigned: a read_committed reader (the service's consumer is one, as kafkajs's are
 * by default) sees none of it before the commit and all of it after, so no instance drains alone while
 * the others are still starting and no rebalance falls inside the drain. The rate runs from the first
 * prediction to the last; the instances' CPU is read at those two moments.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka, Message } from 'kafkajs';
import { createEventSource, eventCodec } from './events.js';
import { joinedConsumer } from './open-loop.js';
import type { GroupMember } from './scale-group.js';
import type { ServiceInstance } from './scale-instances.js';
import { cpuEach, type InstanceUsage, usage } from './scale-usage.js';

export interface ScaleDrain extends InstanceUsage {
  instances: number;
  round: number;
  /** The machine's 1-minute load average when the drain started. */
  loadAverage: number;
  backlog: number;
  outputs: number;
  /** Predictions per second from the first to the last (or to the time limit). */
  rate: number;
  seconds: number;
  completed: boolean;
  /** Nothing arrived for STALL_MS: the instances stopped making progress. */
  stalled: boolean;
}

export type DrainFigures = Omit<ScaleDrain, 'instances' | 'round' | 'loadAverage'>;

export interface PreparedDrain {
  /** Commits the backlog and measures until it is drained, stalls, or `limitSeconds` pass. */
  run(
    instances: readonly ServiceInstance[],
    assignment: GroupMember[],
    limitSeconds: number,
  ): Promise<DrainFigures>;
  /** Stops reading; aborts the transaction if it was never committed (it would hold the topic until its timeout). */
  close(): Promise<void>;
}

const BACKLOG_CHUNK = 5_000;
/** The open transaction must outlive the instances' start (seconds, in parallel) and the publishing. */
const TRANSACTION_TIMEOUT_MS = 180_000;
const STALL_MS = 5_000;

/** Events 0 to `count` - 1, keyed by account as the generator keys them, in one open transaction. */
async function openBacklog(kafka: Kafka, topic: string, count: number) {
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionalId: `${topic}-backlog`,
    transactionTimeout: TRANSACTION_TIMEOUT_MS,
  });
  await producer.connect();
  const transaction = await producer.transaction();
  const source = createEventSource('unique');
  for (let start = 0; start < count; start += BACKLOG_CHUNK) {
    const messages: Message[] = [];
    for (let sequence = start; sequence < Math.min(count, start + BACKLOG_CHUNK); sequence++) {
      const event = source.next(sequence);
      messages.push({ key: event.account_id, value: eventCodec.encode(event) });
    }
    await transaction.send({ topic, messages, acks: -1 });
  }
  let committed = false;
  return {
    async commit() {
      await transaction.commit();
      committed = true;
      await producer.disconnect();
    },
    async abandon() {
      if (committed) return;
      await transaction.abort().catch(() => undefined);
      await producer.disconnect();
    },
  };
}

/**
 * Starts reading `output` and publishing `backlog` events to `input`, the transaction left open: call it
 * before starting the instances, so the publishing overlaps their start.
 */
export async function prepareDrain(
  kafka: Kafka,
  input: string,
  output: string,
  backlog: number,
): Promise<PreparedDrain> {
  let instances: readonly ServiceInstance[] = [];
  const progress = { outputs: 0, firstBatch: 0, firstAtMs: 0, lastAtMs: 0 };
  let startCpu: number[] = [];
  let endCpu: number[] | undefined;
  const reader = await joinedConsumer(kafka, output, (values, receivedAt) => {
    if (progress.outputs === 0) {
      progress.firstAtMs = receivedAt;
      progress.firstBatch = values.length;
      startCpu = cpuEach(instances);
    }
    progress.outputs += values.length;
    progress.lastAtMs = receivedAt;
    if (progress.outputs >= backlog && !endCpu) endCpu = cpuEach(instances);
  });
  const gate = openBacklog(kafka, input, backlog);
  // Awaited once the instances are ready; a failure before then must not go unhandled.
  gate.catch(() => undefined);
  let closing: Promise<void> | undefined;
  return {
    async run(started, assignment, limitSeconds) {
      instances = started;
      await (await gate).commit();
      const committedAt = performance.now();
      let stalled = false;
      while (progress.outputs < backlog) {
        const now = performance.now();
        if (progress.outputs > 0 && now - progress.lastAtMs > STALL_MS) {
          stalled = true;
          break;
        }
        if (now - committedAt > limitSeconds * 1000) break;
        await sleep(50);
      }
      const seconds = (progress.lastAtMs - progress.firstAtMs) / 1000;
      const drained = progress.outputs - progress.firstBatch;
      return {
        backlog,
        outputs: progress.outputs,
        rate: seconds > 0 ? drained / seconds : 0,
        seconds,
        completed: progress.outputs >= backlog,
        stalled,
        ...usage(startCpu, endCpu ?? cpuEach(instances), seconds, drained, assignment),
      };
    },
    close() {
      closing ??= Promise.all([
        gate.then((opened) => opened.abandon()).catch(() => undefined),
        reader.disconnect(),
      ]).then(() => undefined);
      return closing;
    },
  };
}
