/**
 * Bad records mixed into a valid stream on the real broker: every kind of the malformed corpus on every
 * partition, records that look wrong but are valid, and 100,000 fuzzed records. The outcome of each record
 * is known beforehand (the corpus says it, the oracle computes it for fuzzed ones with the service's own
 * decode and feature extraction): every good record must be predicted once, every bad one must be in the
 * dead-letter topic once with the right code and its original key, value and headers, and the process must
 * never crash.
 */

import type { Message } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { eventCodec } from '../support/codecs.js';
import { testKafka } from '../support/kafka.js';
import {
  fuzzedRecords,
  malformedCorpus,
  type Outcome,
  oddButValid,
  outcomeOracle,
} from '../support/malformed.js';
import {
  errorLogs,
  killStartedServices,
  type ProcessExit,
  startServiceProcess,
} from '../support/processes.js';
import {
  assignments,
  createFaultTopics,
  decodePredictions,
  describeAssignments,
  type FaultTopics,
  instanceEnvironment,
  orderViolations,
  PARTITIONS,
  readToEnd,
  type StoredRecord,
  startSteadyProducer,
  waitForAllCommitted,
  within,
} from './harness.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers, 'streamscore-faults');

const VALID_EVENTS = 6_000;
const FUZZED = 100_000;
/** One valid event between every this many fuzzed records. */
const FUZZ_PER_VALID = 25;
const RATE_PER_SECOND = 20_000;
const CASE_HEADER = 'fault-case';

const DLT_HEADERS = [
  'kafka_dlt-original-topic',
  'kafka_dlt-original-partition',
  'kafka_dlt-original-offset',
  'kafka_dlt-original-timestamp',
  'kafka_dlt-exception-fqcn',
  'kafka_dlt-exception-message',
  'streamscore-error-code',
] as const;

interface Sent {
  record: StoredRecord;
  expected: Outcome;
  /** Corpus kind or 'valid', 'odd: …', 'fuzz'. */
  kind: string;
}

/** The input in publishing order: valid events, then the corpus on every partition, then fuzz with valid events woven in. */
function buildInput(): Message[] {
  const valid = (() => {
    const stream = sampleTransactions({ seed: 606 });
    return Array.from({ length: VALID_EVENTS }, () => stream.next().value as CardTransaction);
  })();
  const validMessage = (event: CardTransaction): Message => ({
    key: event.account_id,
    value: eventCodec.encode(event),
    headers: { [CASE_HEADER]: 'valid' },
  });
  const base = sampleTransactions({ seed: 31 }).next().value as CardTransaction;
  const specimens: Message[] = [];
  for (let partition = 0; partition < PARTITIONS; partition++) {
    malformedCorpus(base).forEach((kind, index) => {
      specimens.push({
        partition,
        key: `malformed-${index}-${partition}`,
        value: kind.value,
        headers: { [CASE_HEADER]: kind.name },
      });
    });
    oddButValid(base).forEach((odd, index) => {
      specimens.push({
        partition,
        key: `odd-${index}-${partition}`,
        value: odd.value,
        headers: { [CASE_HEADER]: `odd: ${odd.name}` },
      });
    });
  }
  // A fuzz pool from another seed, so no fuzzed record can carry a valid event's event_id.
  const poolStream = sampleTransactions({ seed: 808 });
  const pool = Array.from({ length: 200 }, () =>
    eventCodec.encode(poolStream.next().value as CardTransaction),
  );
  const fuzz = fuzzedRecords(2026, pool);
  const messages = valid.slice(0, 2_000).map(validMessage);
  messages.push(...specimens);
  let nextValid = 2_000;
  for (let index = 0; index < FUZZED; index++) {
    messages.push({ key: `fuzz-${index}`, value: fuzz.next().value, headers: { [CASE_HEADER]: 'fuzz' } });
    if (index % FUZZ_PER_VALID === 0 && nextValid < valid.length)
      messages.push(validMessage(valid[nextValid++]!));
  }
  messages.push(...valid.slice(nextValid).map(validMessage));
  return messages;
}

describe('bad records mixed into a valid stream, with 100,000 fuzzed records', () => {
  let topics: FaultTopics;
  let sent: Sent[];
  let predictionsByIdentity: Map<string, number>;
  let deadLettersByKey: Map<string, StoredRecord[]>;
  let stillRunning: boolean;
  let crashes: string[];
  let exit: ProcessExit;
  /** What the service said last, for the assertion on its exit code. */
  let lastWords: string;
  /** The service's assignment history: more than one generation explains duplicates (at-least-once). */
  let assignmentHistory: string;
  let allCommitted: boolean;
  let violations: number;

  /** Valid-stream records share account keys, so they are told apart by event_id; the rest by key. */
  const identity = (key: string | null, eventId: string | undefined) =>
    key?.startsWith('acct-') ? `event:${eventId}` : `key:${key}`;

  beforeAll(async () => {
    // Each wait has its own deadline, together under the suite's 300 s hook timeout, so a hang names its stage.
    topics = await within('creating the topics', 30_000, createFaultTopics(kafka, 'dlt'));
    const oracle = await outcomeOracle();
    const messages = buildInput();
    // Half the input waits in the topic before the service starts, so it is fetched in full 1 MiB batches of
    // mostly bad records; the other half arrives while it runs, in small batches.
    const half = Math.floor(messages.length / 2);
    const backlog = startSteadyProducer(kafka, topics.input, messages.slice(0, half), RATE_PER_SECOND);
    await within('publishing the backlog', 30_000, backlog.done, () => `(${backlog.sent()} of ${half} sent)`);
    const service = startServiceProcess('dead letters', instanceEnvironment(brokers, topics, 'dlt'));
    try {
      await service.waitForLog('scoring', 60_000);
      const producer = startSteadyProducer(kafka, topics.input, messages.slice(half), RATE_PER_SECOND);
      await within(
        'publishing the rest while the service runs',
        30_000,
        producer.done,
        () => `(${producer.sent()} of ${messages.length - half} sent)`,
      );
      allCommitted = await waitForAllCommitted(kafka, topics.groupId, topics.input, 75_000);
      stillRunning = service.running();
      crashes = [...errorLogs(service).map((line) => JSON.stringify(line).slice(0, 300))];
      exit = await service.terminate(30_000);
      assignmentHistory = describeAssignments(assignments(service.logs, topics.input));
      lastWords = `${service.logs
        .slice(-8)
        .map((line) => JSON.stringify(line).slice(0, 400))
        .join('\n')}\nstderr: ${service.stderr().slice(-2_000)}`;
    } finally {
      await killStartedServices();
    }

    const [input, committedOutput, deadLetters] = await within(
      'reading the input, output and dead-letter topics back',
      40_000,
      Promise.all([
        readToEnd(kafka, topics.input, { readCommitted: true, timeoutMs: 35_000 }),
        readToEnd(kafka, topics.output, { readCommitted: true, timeoutMs: 35_000 }),
        readToEnd(kafka, topics.deadLetter, { readCommitted: true, timeoutMs: 35_000 }),
      ]),
    );
    sent = input.map((record) => ({
      record,
      expected: oracle(record.value),
      kind: record.headers[CASE_HEADER] ?? 'unknown',
    }));

    const predictions = decodePredictions(committedOutput);
    predictionsByIdentity = new Map();
    for (const { record, prediction } of predictions) {
      const who = identity(record.key, prediction.event_id);
      predictionsByIdentity.set(who, (predictionsByIdentity.get(who) ?? 0) + 1);
    }
    deadLettersByKey = new Map();
    for (const record of deadLetters) {
      deadLettersByKey.set(record.key ?? '', [...(deadLettersByKey.get(record.key ?? '') ?? []), record]);
    }

    const validInput = input.filter((record) => record.headers[CASE_HEADER] === 'valid');
    const validPredictions = predictions.filter(({ record }) => record.key?.startsWith('acct-'));
    violations = orderViolations(validInput, validPredictions);

    const bad = sent.filter((entry) => entry.expected !== 'scored');
    const good = sent.filter((entry) => entry.expected === 'scored');
    const unpredicted = good.filter((entry) => !predictionsByIdentity.has(identityOf(entry)));
    const undeadLettered = bad.filter((entry) => !deadLettersByKey.has(entry.record.key ?? ''));
    const duplicatePredictions = [...predictionsByIdentity.values()].reduce(
      (sum, count) => sum + count - 1,
      0,
    );
    const duplicateDeadLetters = [...deadLettersByKey.values()].reduce(
      (sum, records) => sum + records.length - 1,
      0,
    );
    const rightCode = bad.filter(
      (entry) =>
        deadLettersByKey.get(entry.record.key ?? '')?.[0]?.headers['streamscore-error-code'] ===
        entry.expected,
    ).length;
    const byCode = new Map<Outcome, number>();
    for (const entry of sent) byCode.set(entry.expected, (byCode.get(entry.expected) ?? 0) + 1);
    console.log(
      `[faults] malformed + fuzz: records in ${input.length}, distinct predictions ${predictionsByIdentity.size}, ` +
        `lost ${unpredicted.length + undeadLettered.length} (good unpredicted ${unpredicted.length}, bad not ` +
        `dead-lettered ${undeadLettered.length}), duplicates ${duplicatePredictions + duplicateDeadLetters} ` +
        `(predictions ${duplicatePredictions}, dead letters ${duplicateDeadLetters}), read_committed duplicates ` +
        `${duplicatePredictions}, order violations ${violations}, dead-lettered ${deadLetters.length} ` +
        `(${rightCode} of ${bad.length} bad records with the expected code), recovery time n/a, ` +
        `expected outcomes ${JSON.stringify(Object.fromEntries(byCode))}, process exits ${exit.code}, ` +
        `assignments ${assignmentHistory}`,
    );
  });

  function identityOf(entry: Sent): string {
    const eventId =
      entry.expected === 'scored' && entry.record.key?.startsWith('acct-')
        ? eventCodec.decode(entry.record.value).event_id
        : undefined;
    return identity(entry.record.key, eventId);
  }

  afterAll(killStartedServices);

  it('never crashes: the process runs throughout and stops cleanly', () => {
    expect(stillRunning).toBe(true);
    expect(crashes).toEqual([]);
    expect(exit.code, lastWords).toBe(0);
    expect(allCommitted).toBe(true);
  });

  it('sent at least 25 malformed kinds on every partition and 100,000 fuzzed records', () => {
    const kinds = new Set(
      sent.filter((entry) => entry.record.key?.startsWith('malformed-')).map((e) => e.kind),
    );
    expect(kinds.size).toBeGreaterThanOrEqual(25);
    expect(sent.filter((entry) => entry.kind === 'fuzz')).toHaveLength(FUZZED);
  });

  it('predicts every good record exactly once, and no bad one', () => {
    const good = sent.filter((entry) => entry.expected === 'scored');
    const unpredicted = good.filter((entry) => predictionsByIdentity.get(identityOf(entry)) !== 1);
    expect(
      unpredicted.slice(0, 5).map((entry) => `${entry.kind} ${entry.record.key}`),
      `assignments ${assignmentHistory}`,
    ).toEqual([]);
    const bad = sent.filter((entry) => entry.expected !== 'scored');
    const predictedBad = bad.filter((entry) => predictionsByIdentity.has(identityOf(entry)));
    expect(predictedBad.slice(0, 5).map((entry) => `${entry.kind} ${entry.record.key}`)).toEqual([]);
    expect(violations).toBe(0);
  });

  it('dead-letters every bad record once, with the code the codec and features give it', () => {
    const bad = sent.filter((entry) => entry.expected !== 'scored');
    const wrong = bad
      .map((entry) => {
        const letters = deadLettersByKey.get(entry.record.key ?? '') ?? [];
        const code = letters[0]?.headers['streamscore-error-code'];
        return letters.length === 1 && code === entry.expected
          ? undefined
          : `${entry.kind} (${entry.record.key}): expected one ${entry.expected}, got ${letters.length} [${code}]`;
      })
      .filter((problem) => problem !== undefined);
    expect(wrong.length, `${wrong.slice(0, 10).join('\n')}\nassignments ${assignmentHistory}`).toBe(0);
  });

  it('dead-letters no good record', () => {
    const goodKeys = new Set(
      sent
        .filter((entry) => entry.expected === 'scored' && !entry.record.key?.startsWith('acct-'))
        .map((e) => e.record.key),
    );
    const wronglyDeadLettered = [...deadLettersByKey.keys()].filter(
      (key) => key.startsWith('acct-') || goodKeys.has(key),
    );
    expect(wronglyDeadLettered.slice(0, 5)).toEqual([]);
  });

  it('keeps the original key, value and headers, and says where the record came from and why', () => {
    const bad = sent.filter((entry) => entry.expected !== 'scored');
    expect(bad.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const { record, kind } of bad) {
      if (problems.length >= 10) break;
      const letter = deadLettersByKey.get(record.key ?? '')?.[0];
      if (!letter) {
        problems.push(`${kind}: not dead-lettered`);
        continue;
      }
      const same =
        letter.value === null
          ? record.value === null || record.value.length === 0
          : letter.value.equals(record.value ?? Buffer.alloc(0));
      if (!same) problems.push(`${kind}: value changed`);
      if (letter.headers[CASE_HEADER] !== kind) problems.push(`${kind}: original header lost`);
      const missing = DLT_HEADERS.filter((name) => !(name in letter.headers));
      if (missing.length) problems.push(`${kind}: missing ${missing.join(', ')}`);
      const expected = {
        'kafka_dlt-original-topic': topics.input,
        'kafka_dlt-original-partition': String(record.partition),
        'kafka_dlt-original-offset': String(record.offset),
        'kafka_dlt-original-timestamp': String(record.timestamp),
      };
      for (const [name, value] of Object.entries(expected)) {
        if (letter.headers[name] !== undefined && letter.headers[name] !== value) {
          problems.push(`${kind}: ${name} is ${letter.headers[name]}, expected ${value}`);
        }
      }
      // Messages say what is wrong, never the data: no card-number-like digit runs, no field text.
      const message = letter.headers['kafka_dlt-exception-message'] ?? '';
      if (/\d{12,}/.test(message)) problems.push(`${kind}: exception message holds a long digit run`);
      if ((letter.headers['kafka_dlt-exception-fqcn'] ?? '').length === 0)
        problems.push(`${kind}: no exception class`);
    }
    expect(problems).toEqual([]);
  });

  it('never puts card data from the corpus into a dead-letter message', () => {
    const base = sampleTransactions({ seed: 31 }).next().value as CardTransaction;
    const secrets = [base.card_number, base.account_id, base.event_id, base.merchant_id];
    const messages = [...deadLettersByKey.values()]
      .flat()
      .map((letter) => letter.headers['kafka_dlt-exception-message'] ?? '');
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.filter((message) => secrets.some((secret) => message.includes(secret)))).toEqual([]);
  });
});
