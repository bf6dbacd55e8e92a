/**
 * The fault suite's harness, after Kafka's own transactions system test: a bounded input published at a
 * steady rate, a processor that is hurt while it runs, then every topic read back to its end and checked
 * against the input. Produces the figures each scenario prints: records in, distinct predictions, lost,
 * duplicates (total and worst partition), duplicates a read_committed consumer sees, per-key order
 * violations, dead-lettered records, recovery time.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Consumer, IHeaders, Kafka, Message } from 'kafkajs';
import { fetchTopicEnds, isRetriableKafkaError } from '../../src/kafka/index.js';
import type { Prediction } from '../../src/routing/index.js';
import type { CardTransaction } from '../../src/sample/index.js';
import { eventCodec, predictionCodec } from '../support/codecs.js';
import { createTopics, uniqueName, withAdmin } from '../support/kafka.js';
import { type LogLine, serviceEnvironment } from '../support/processes.js';

export const PARTITIONS = 3;

export interface FaultTopics {
  input: string;
  output: string;
  deadLetter: string;
  groupId: string;
}

/** Input, output and dead-letter topics (the service refuses to start without all three) and a group. */
export async function createFaultTopics(
  kafka: Kafka,
  scenario: string,
  partitions = PARTITIONS,
): Promise<FaultTopics> {
  const input = uniqueName(`${scenario}-in`);
  const topics = {
    input,
    output: uniqueName(`${scenario}-out`),
    deadLetter: `${input}.DLT`,
    groupId: uniqueName(`${scenario}-group`),
  };
  await createTopics(kafka, [topics.input, topics.output, topics.deadLetter], partitions);
  return topics;
}

/**
 * The environment of one `streamscore serve` instance on these topics. The session timeout is cut to 10 s
 * (the default is 30 s) because after a SIGKILL the group waits that long for the dead member before the
 * restarted one gets its partitions; with 30 s the kill scenarios alone would take minutes. Hot reload is
 * off: nothing here publishes models. The variant names the instance on every prediction it writes, so a
 * prediction can be traced to the process that published it.
 */
export function instanceEnvironment(
  brokers: readonly string[],
  topics: FaultTopics,
  instance: string,
  settings: Record<string, string> = {},
): NodeJS.ProcessEnv {
  return serviceEnvironment({
    STREAMSCORE_KAFKA_BROKERS: brokers.join(','),
    STREAMSCORE_KAFKA_CLIENT_ID: `streamscore-${instance}`,
    STREAMSCORE_INPUT_TOPIC: topics.input,
    STREAMSCORE_INPUT_GROUP_ID: topics.groupId,
    STREAMSCORE_OUTPUT_TOPIC: topics.output,
    STREAMSCORE_DEADLETTER_TOPIC: topics.deadLetter,
    STREAMSCORE_INPUT_SESSION_TIMEOUT_MS: '10000',
    STREAMSCORE_MODEL_POLL_INTERVAL_MS: '0',
    STREAMSCORE_MODEL_VARIANT: instance,
    ...settings,
  });
}

// -------------------------------------------------------------------------------------------- reading

export interface StoredRecord {
  partition: number;
  offset: bigint;
  key: string | null;
  keyBytes: Buffer | null;
  value: Buffer | null;
  /** CreateTime: when the writing client sent it (all processes share this machine's clock). */
  timestamp: number;
  headers: Record<string, string>;
}

function headerStrings(headers: IHeaders | undefined): Record<string, string> {
  const strings: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) strings[name] = first.toString();
  }
  return strings;
}

/**
 * Reads a topic from the beginning to the end offsets it has when called. Progress is tracked from
 * kafkajs's end-of-batch events rather than the records, because the last offsets of a transactional topic
 * are commit or abort markers that no record reports. A read_committed read stops at the last stable
 * offset, so it only finishes once every transaction on the topic is decided.
 */
export async function readToEnd(
  kafka: Kafka,
  topic: string,
  options: { readCommitted: boolean; timeoutMs?: number },
): Promise<StoredRecord[]> {
  const ends = await withAdmin(kafka, (admin) => fetchTopicEnds(admin, topic));
  const remaining = new Map(
    ends
      .filter(({ high, low }) => BigInt(high) > BigInt(low))
      .map(({ partition, high }) => [partition, BigInt(high)]),
  );
  const records: StoredRecord[] = [];
  if (remaining.size === 0) return records;

  const consumer = kafka.consumer({
    groupId: uniqueName('fault-reader'),
    allowAutoTopicCreation: false,
    readUncommitted: !options.readCommitted,
    maxWaitTimeInMs: 500,
  });
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const end = remaining.get(payload.partition);
    if (end !== undefined && BigInt(payload.lastOffset) + 1n >= end) remaining.delete(payload.partition);
    if (remaining.size === 0) finish();
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          records.push({
            partition: batch.partition,
            offset: BigInt(message.offset),
            key: message.key?.toString() ?? null,
            keyBytes: message.key,
            value: message.value,
            timestamp: Number(message.timestamp),
            headers: headerStrings(message.headers),
          });
        }
      },
    });
    const timeoutMs = options.timeoutMs ?? 120_000;
    const outcome = await Promise.race([
      finished.then(() => 'done' as const),
      sleep(timeoutMs, 'timeout' as const),
    ]);
    if (outcome === 'timeout') {
      throw new Error(
        `reading ${topic} (${options.readCommitted ? 'read_committed' : 'read_uncommitted'}) did not reach the end ` +
          `of partitions ${[...remaining.keys()].join(', ')} within ${timeoutMs} ms (an open transaction holds the ` +
          `last stable offset back, or the topic is unreadable)`,
      );
    }
  } finally {
    await consumer.disconnect();
  }
  return records.sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset));
}

/** Waits until the group has committed every input offset; returns whether it did in time. */
export async function waitForAllCommitted(
  kafka: Kafka,
  groupId: string,
  topic: string,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  return withAdmin(kafka, async (admin) => {
    for (;;) {
      if (await allCommitted(admin, groupId, topic)) return true;
      if (Date.now() > deadline) return false;
      await sleep(250);
    }
  });
}

/** A fresh broker can still be moving the group's coordinator (NOT_COORDINATOR): that is "not yet". */
async function allCommitted(admin: Admin, groupId: string, topic: string): Promise<boolean> {
  try {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const ends = await fetchTopicEnds(admin, topic);
    return ends.every(
      ({ partition, high }) => committed?.partitions.find((p) => p.partition === partition)?.offset === high,
    );
  } catch (error) {
    if (isRetriableKafkaError(error)) return false;
    throw error;
  }
}

/** The group's committed offset on each partition of `topic` (0 where nothing is committed yet). */
export async function committedOffsets(kafka: Kafka, groupId: string, topic: string): Promise<bigint[]> {
  const [committed] = await withAdmin(kafka, (admin) => admin.fetchOffsets({ groupId, topics: [topic] }));
  const offsets = Array.from({ length: PARTITIONS }, () => 0n);
  for (const { partition, offset } of committed?.partitions ?? [])
    offsets[partition] = BigInt(Math.max(0, Number(offset)));
  return offsets;
}

/**
 * Predictions an instance published for input records at or past the offsets committed when it stopped:
 * work the next instance will be handed again, since its offsets were never committed.
 */
export function publishedPastCommitted(
  input: readonly StoredRecord[],
  output: readonly StoredRecord[],
  instance: string,
  committed: readonly bigint[],
): number[] {
  const where = new Map<string, StoredRecord>();
  for (const record of input) where.set(eventCodec.decode(record.value).event_id, record);
  const counts = Array.from({ length: PARTITIONS }, () => 0);
  for (const { prediction } of decodePredictions(output)) {
    if (prediction.variant !== instance) continue;
    const source = where.get(prediction.event_id);
    if (source && source.offset >= committed[source.partition]!) counts[source.partition]! += 1;
  }
  return counts;
}

// -------------------------------------------------------------------------------------- publishing

export interface SteadyProducer {
  /** Records acknowledged so far. */
  sent(): number;
  /** Stops sending after the chunk in flight (for the moments the broker is away on purpose). */
  pause(): void;
  resume(): void;
  /** Resolves when every record is acknowledged. */
  readonly done: Promise<void>;
  /** Gives up early (teardown). */
  stop(): Promise<void>;
}

const TICK_MS = 100;
/** Sends failing for this long end the producer with the last error, instead of retrying forever. */
const GIVE_UP_AFTER_MS = 90_000;
/**
 * Bytes of keys and values in one send. A tick the busy machine delays owes many records, and sent in one
 * request they could pass the broker's 1 MiB batch limit, which fails the same way on every retry.
 */
const MAX_SEND_BYTES = 256 * 1024;

function sendEnd(messages: readonly Message[], from: number, due: number): number {
  let bytes = 0;
  let end = from;
  while (end < due && (end === from || bytes < MAX_SEND_BYTES)) {
    const { key, value } = messages[end]!;
    bytes += (key?.length ?? 0) + (value?.length ?? 0);
    end++;
  }
  return end;
}

/**
 * Publishes `messages` in order at `ratePerSecond`, in one send per 100 ms tick, so faults land while
 * records keep arriving; a late tick sends what it owes, 256 KiB at a time. A failed send is retried after
 * a pause on a new producer: an idempotent producer whose request failed can be left with sequence numbers the broker refuses from then on. The input is read
 * back from the topic afterwards, so a record a retry wrote twice is counted as two records in, never blamed
 * on the service. Sends failing for 90 s on end reject `done` with the last error.
 */
export function startSteadyProducer(
  kafka: Kafka,
  topic: string,
  messages: readonly Message[],
  ratePerSecond: number,
): SteadyProducer {
  const newProducer = () =>
    kafka.producer({
      allowAutoTopicCreation: false,
      idempotent: true,
      maxInFlightRequests: 1,
      retry: { retries: 20, maxRetryTime: 2_000 },
    });
  let producer = newProducer();
  let connected = false;
  let sent = 0;
  let paused = false;
  let stopped = false;
  let activeMs = 0;

  const loop = async () => {
    let failingSince: number | undefined;
    let lastTick = performance.now();
    while (sent < messages.length && !stopped) {
      const now = performance.now();
      if (!paused) activeMs += now - lastTick;
      lastTick = now;
      const due = Math.min(messages.length, Math.floor((activeMs / 1000) * ratePerSecond));
      if (!paused && due > sent) {
        try {
          if (!connected) await producer.connect();
          connected = true;
          const end = sendEnd(messages, sent, due);
          await producer.send({ topic, messages: messages.slice(sent, end), acks: -1 });
          sent = end;
          failingSince = undefined;
        } catch (error) {
          if (failingSince === undefined)
            console.warn(
              `[steady producer] a send to ${topic} failed, retrying on a new producer: ${String(error)}`,
            );
          failingSince ??= now;
          if (now - failingSince > GIVE_UP_AFTER_MS) {
            throw new Error(
              `publishing to ${topic} failed for ${GIVE_UP_AFTER_MS} ms after ${sent} of ${messages.length} ` +
                `records; last error: ${String(error)}`,
            );
          }
          await producer.disconnect().catch(() => undefined);
          producer = newProducer();
          connected = false;
          await sleep(500);
        }
      }
      if (sent >= due || paused) await sleep(TICK_MS);
    }
  };
  const done = loop().finally(() => producer.disconnect());
  return {
    sent: () => sent,
    pause: () => {
      paused = true;
    },
    resume: () => {
      paused = false;
    },
    done,
    stop: async () => {
      stopped = true;
      await done.catch(() => undefined);
    },
  };
}

/**
 * `work`, or an error naming `stage` once it has taken `timeoutMs`. A scenario's set-up gives each of its
 * waits one, adding up to less than the suite's hook timeout, so a hang says where it happened.
 */
export async function within<T>(
  stage: string,
  timeoutMs: number,
  work: Promise<T>,
  progress: () => string = () => '',
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${stage}: not done within ${timeoutMs} ms ${progress()}`.trimEnd())),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([work, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sample events as Kafka messages keyed by account, so one account's events share a partition. */
export function eventMessages(events: readonly CardTransaction[]): Message[] {
  return events.map((event) => ({ key: event.account_id, value: eventCodec.encode(event) }));
}

// -------------------------------------------------------------------------------------- progress

export interface PredictionWatcher {
  /** Distinct event ids predicted so far (read_uncommitted: progress, not proof). */
  distinct(): number;
  waitForDistinct(count: number, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** How long the watcher waits before starting again when the broker is not back yet. */
const WATCHER_RESTART_MS = 500;

/**
 * Follows the output topic while a scenario runs, so faults can be timed by progress. It must outlive every
 * fault the scenario injects: kafkajs restarts a consumer only after a crash it counts as retriable, so
 * after any other crash the watcher starts a fresh consumer in the same group (its Set ignores what is
 * read twice). A broker-bounce run once lost its watcher that way while the service had already
 * predicted and committed every event.
 */
export async function watchPredictions(kafka: Kafka, topic: string): Promise<PredictionWatcher> {
  const seen = new Set<string>();
  const groupId = uniqueName('fault-watcher');
  let consumer: Consumer | undefined;
  let stopped = false;

  const start = async () => {
    const current = kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      readUncommitted: true,
      maxWaitTimeInMs: 200,
    });
    consumer = current;
    current.on(current.events.CRASH, ({ payload }) => {
      if (payload.restart || stopped) return;
      process.stderr.write(
        `[faults] the prediction watcher crashed (${payload.error.message}); starting it again\n`,
      );
      void current
        .disconnect()
        .catch(() => undefined)
        .then(startUntilRunning);
    });
    await current.connect();
    await current.subscribe({ topics: [topic], fromBeginning: true });
    await current.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) seen.add(predictionCodec.decode(message.value).event_id);
      },
    });
  };
  const startUntilRunning = async () => {
    while (!stopped) {
      try {
        await start();
        // Stopped while this start was under way: its consumer is the one left to disconnect.
        if (stopped) await consumer?.disconnect();
        return;
      } catch {
        await consumer?.disconnect().catch(() => undefined);
        await sleep(WATCHER_RESTART_MS);
      }
    }
  };

  await start();
  return {
    distinct: () => seen.size,
    async waitForDistinct(count, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (seen.size < count) {
        if (Date.now() > deadline) {
          throw new Error(`only ${seen.size} of ${count} events were predicted within ${timeoutMs} ms`);
        }
        await sleep(50);
      }
    },
    stop: async () => {
      stopped = true;
      await consumer?.disconnect();
    },
  };
}

// -------------------------------------------------------------------------------------- figures

export interface Fault {
  name: string;
  /** When the fault was injected (Date.now()). */
  at: number;
  /** When the service could start recovering: the fault itself, or e.g. the broker being back. */
  recoverableFrom: number;
  /** The instance (variant) whose predictions count as recovery; any instance when absent. */
  recoveredBy?: string;
}

export interface Figures {
  recordsIn: number;
  distinctPredictions: number;
  lost: number;
  duplicates: number;
  maxDuplicatesPerPartition: number;
  duplicatesByPartition: number[];
  readCommittedDuplicates: number;
  orderViolations: number;
  deadLettered: number;
  /** Per fault: from `recoverableFrom` to the first prediction of an event not predicted before the fault. */
  recoveryMs: number[];
  /** Event ids that were published but never predicted (the first few, for the failure message). */
  lostExamples: string[];
}

export interface ScenarioRecords {
  input: readonly StoredRecord[];
  /** The output read with read_uncommitted: everything the service wrote, aborted transactions included. */
  output: readonly StoredRecord[];
  /** The output read with read_committed: what a downstream consumer sees. */
  committedOutput: readonly StoredRecord[];
  deadLetters: readonly StoredRecord[];
}

export interface DecodedPrediction {
  record: StoredRecord;
  prediction: Prediction;
}

export function decodePredictions(records: readonly StoredRecord[]): DecodedPrediction[] {
  return records.map((record) => ({ record, prediction: predictionCodec.decode(record.value) }));
}

function countBy<T>(items: Iterable<T>): Map<T, number> {
  const counts = new Map<T, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return counts;
}

/** Outputs beyond the number of times the event was published, per output partition. */
function duplicatesByPartition(
  inputCounts: Map<string, number>,
  output: readonly DecodedPrediction[],
  partitions: number,
): number[] {
  const seen = new Map<string, number>();
  const byPartition = Array.from({ length: partitions }, () => 0);
  for (const { record, prediction } of output) {
    const times = (seen.get(prediction.event_id) ?? 0) + 1;
    seen.set(prediction.event_id, times);
    if (times > (inputCounts.get(prediction.event_id) ?? 0)) byPartition[record.partition]! += 1;
  }
  return byPartition;
}

/**
 * Per key, the order in which events first appear in the output must be the order they were published in.
 * Counts the first occurrences that come after an event published later for the same key.
 */
export function orderViolations(
  input: readonly StoredRecord[],
  output: readonly DecodedPrediction[],
): number {
  const position = new Map<string, number>();
  input.forEach((record, index) => {
    const id = eventCodec.decode(record.value).event_id;
    if (!position.has(id)) position.set(id, index);
  });
  const furthest = new Map<string, number>();
  const first = new Set<string>();
  let violations = 0;
  for (const { record, prediction } of output) {
    if (first.has(prediction.event_id)) continue;
    first.add(prediction.event_id);
    const key = record.key ?? '';
    const index = position.get(prediction.event_id) ?? -1;
    const before = furthest.get(key) ?? -1;
    if (index < before) violations += 1;
    else furthest.set(key, index);
  }
  return violations;
}

function recoveryTimes(output: readonly DecodedPrediction[], faults: readonly Fault[]): number[] {
  return faults.map((fault) => {
    const before = new Set(
      output
        .filter(({ record }) => record.timestamp <= fault.at)
        .map(({ prediction }) => prediction.event_id),
    );
    let firstNew = Number.POSITIVE_INFINITY;
    for (const { record, prediction } of output) {
      if (fault.recoveredBy !== undefined && prediction.variant !== fault.recoveredBy) continue;
      if (record.timestamp > fault.at && !before.has(prediction.event_id)) {
        firstNew = Math.min(firstNew, record.timestamp);
      }
    }
    return firstNew - fault.recoverableFrom;
  });
}

/** The figures of a scenario whose input is all valid card transactions. */
export function measure(records: ScenarioRecords, faults: readonly Fault[]): Figures {
  const inputIds = records.input.map((record) => eventCodec.decode(record.value).event_id);
  const inputCounts = countBy(inputIds);
  const output = decodePredictions(records.output);
  const committed = decodePredictions(records.committedOutput);
  const predicted = new Set(output.map(({ prediction }) => prediction.event_id));
  const committedPredicted = new Set(committed.map(({ prediction }) => prediction.event_id));
  // Lost means a downstream (read_committed) consumer never sees a prediction for the event.
  const lost = [...inputCounts.keys()].filter((id) => !committedPredicted.has(id));
  const partitions = records.input.reduce((most, record) => Math.max(most, record.partition + 1), PARTITIONS);
  const byPartition = duplicatesByPartition(inputCounts, output, partitions);
  return {
    recordsIn: records.input.length,
    distinctPredictions: predicted.size,
    lost: lost.length,
    lostExamples: lost.slice(0, 5),
    duplicates: byPartition.reduce((sum, count) => sum + count, 0),
    maxDuplicatesPerPartition: Math.max(...byPartition),
    duplicatesByPartition: byPartition,
    readCommittedDuplicates: duplicatesByPartition(inputCounts, committed, partitions).reduce(
      (sum, count) => sum + count,
      0,
    ),
    orderViolations: orderViolations(records.input, committed),
    deadLettered: records.deadLetters.length,
    recoveryMs: recoveryTimes(output, faults),
  };
}

function seconds(ms: number): string {
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : 'never';
}

/** The one line each scenario prints, whatever its assertions say afterwards. */
export function printFigures(
  scenario: string,
  figures: Figures,
  extra: Record<string, string | number> = {},
): void {
  const parts = [
    `records in ${figures.recordsIn}`,
    `distinct predictions ${figures.distinctPredictions}`,
    `lost ${figures.lost}`,
    `duplicates ${figures.duplicates} (max per partition ${figures.maxDuplicatesPerPartition})`,
    `read_committed duplicates ${figures.readCommittedDuplicates}`,
    `order violations ${figures.orderViolations}`,
    `dead-lettered ${figures.deadLettered}`,
    `recovery time ${figures.recoveryMs.length ? figures.recoveryMs.map(seconds).join(' / ') : 'n/a'}`,
    ...Object.entries(extra).map(([name, value]) => `${name} ${value}`),
  ];
  console.log(`[faults] ${scenario}: ${parts.join(', ')}`);
}

/**
 * Most records one fetch can hand the service for one partition: every record occupies more than its key
 * and value on the wire, so a fetch of `maxBytesPerPartition` holds at most that many bytes' worth of the
 * smallest key + value in the partition. (A fetch may exceed the limit only when its first record batch
 * alone does, and the test producer's batches are a few kilobytes.)
 */
export function largestBatch(input: readonly StoredRecord[], maxBytesPerPartition: number): number {
  const smallest = Math.min(
    ...input.map((record) => (record.key?.length ?? 0) + (record.value?.length ?? 0)),
  );
  return Math.ceil(maxBytesPerPartition / smallest);
}

// ------------------------------------------------------------------------------------ ownership

export interface Assignment {
  /** When the instance logged that it joined this generation (Date.now() of its log line). */
  time: number;
  partitions: number[];
}

/** An assignment history as the figures print it: `[0,1,2] → [0,2] → [0,1,2]`. */
export function describeAssignments(history: readonly Assignment[]): string {
  return history.map((assignment) => `[${assignment.partitions.join(',')}]`).join(' → ');
}

/**
 * An instance's assignments in order, from its 'joined consumer group' log lines: after each, what the
 * process holds, the union of its loops' latest assignments (a line without `loop` is the only loop's).
 */
export function assignments(logs: readonly LogLine[], topic: string): Assignment[] {
  const latest = new Map<number, number[]>();
  const history: Assignment[] = [];
  for (const line of logs) {
    if (line.msg !== 'joined consumer group') continue;
    latest.set(
      Number(line.loop ?? 0),
      (line.assignment as Record<string, number[]> | undefined)?.[topic] ?? [],
    );
    const held = new Set([...latest.values()].flat());
    history.push({ time: Number(line.time), partitions: [...held].sort((a, b) => a - b) });
  }
  return history;
}

/** What the process held of `topic` once it had logged `line`, one of its log lines. */
export function heldAfter(logs: readonly LogLine[], line: LogLine, topic: string): number[] {
  return assignments(logs.slice(0, logs.indexOf(line) + 1), topic).at(-1)?.partitions ?? [];
}

export interface OwnershipViolation {
  instance: string;
  partition: number;
  eventId: string;
  /** When the prediction was sent, and the assignment the instance had then (undefined: none yet). */
  sentAt: number;
  heldThen: number[] | undefined;
}

/**
 * Predictions an instance sent for an input partition it did not hold at the time: after it had joined a
 * generation without that partition. The service commits right after a batch's predictions are
 * acknowledged, so each of these is followed by a commit to a partition the instance had given up.
 * Conservative: a batch sent between the instance rejoining and its join being logged is not counted.
 */
export function publishedOutsideAssignment(
  input: readonly StoredRecord[],
  output: readonly StoredRecord[],
  instances: ReadonlyMap<string, readonly Assignment[]>,
): OwnershipViolation[] {
  const partitionOf = new Map<string, number>();
  for (const record of input) partitionOf.set(eventCodec.decode(record.value).event_id, record.partition);
  const violations: OwnershipViolation[] = [];
  for (const { record, prediction } of decodePredictions(output)) {
    const timeline = instances.get(prediction.variant);
    const partition = partitionOf.get(prediction.event_id);
    if (!timeline || partition === undefined) continue;
    const held = timeline.filter((assignment) => assignment.time <= record.timestamp).at(-1)?.partitions;
    if (!held?.includes(partition)) {
      violations.push({
        instance: prediction.variant,
        partition,
        eventId: prediction.event_id,
        sentAt: record.timestamp,
        heldThen: held,
      });
    }
  }
  return violations;
}

// ------------------------------------------------------------------------------------ group commits

export interface OffsetCommit {
  topic: string;
  partition: number;
  offset: bigint;
  /** When the broker appended the commit. */
  timestamp: number;
}

/**
 * Every offset commit of a group, in the order the coordinator wrote them, read from __consumer_offsets
 * (read_committed: transactional commits count once their transaction commits). Keys of version 0 and 1
 * are offset commits: group, topic, partition; every value version starts with the offset.
 */
export async function readOffsetCommits(kafka: Kafka, groupId: string): Promise<OffsetCommit[]> {
  const records = await readToEnd(kafka, '__consumer_offsets', { readCommitted: true });
  const commits: OffsetCommit[] = [];
  for (const { keyBytes: key, value, timestamp } of records) {
    if (!key || !value || key.readInt16BE(0) > 1) continue;
    let at = 2;
    const text = () => {
      const length = key.readInt16BE(at);
      const read = key.toString('utf8', at + 2, at + 2 + length);
      at += 2 + length;
      return read;
    };
    if (text() !== groupId) continue;
    const topic = text();
    commits.push({ topic, partition: key.readInt32BE(at), offset: value.readBigInt64BE(2), timestamp });
  }
  // One group lives on one partition of __consumer_offsets, so offset order there is commit order.
  return commits;
}

/** Commits that moved a partition's committed offset backwards: someone committed stale progress. */
export function offsetRegressions(commits: readonly OffsetCommit[]): OffsetCommit[] {
  const latest = new Map<string, bigint>();
  const regressions: OffsetCommit[] = [];
  for (const commit of commits) {
    const where = `${commit.topic}/${commit.partition}`;
    const previous = latest.get(where);
    if (previous !== undefined && commit.offset < previous) regressions.push(commit);
    latest.set(where, commit.offset);
  }
  return regressions;
}
