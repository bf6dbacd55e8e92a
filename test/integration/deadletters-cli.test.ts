/**
 * `streamscore deadletters report` and `replay` as an operator runs them: a separate process on the real
 * broker, reading a dead-letter topic of records set aside with the service's own `toDeadLetter` (two input
 * topics, two reason codes, two times, one record that is no dead letter) and publishing them again.
 */
import type { Message } from 'kafkajs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { ReplayResult } from '../../src/cli/commands/deadletters.js';
import type { DeadLettersReport } from '../../src/cli/dead-letter-tally.js';
import { BadRecordError } from '../../src/errors/index.js';
import type { InputRecord } from '../../src/kafka/index.js';
import { REPLAYED_FROM_HEADER, toDeadLetter } from '../../src/routing/index.js';
import {
  connectedProducer,
  createTopics,
  type ReadRecord,
  readRecords,
  recordsIn,
  testKafka,
  uniqueName,
} from '../support/kafka.js';
import { runStreamscore } from '../support/processes.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers);
const HOUR = 3_600_000;
const now = Date.now();
const OLD = now - 3 * HOUR;
const RECENT = now - 10 * 60_000;

const transactions = uniqueName('dl-transactions');
const payments = uniqueName('dl-payments');
const deadLetterTopic = `${transactions}.DLT`;

interface Dropped {
  topic: string;
  partition: number;
  offset: number;
  code: 'RECORD_TRUNCATED' | 'FEATURE_MISSING';
  at: number;
  /** Headers the record had before it was dead-lettered. */
  headers?: Record<string, string>;
}

const DROPPED: Dropped[] = [
  { topic: transactions, partition: 0, offset: 10, code: 'RECORD_TRUNCATED', at: OLD },
  { topic: transactions, partition: 1, offset: 11, code: 'FEATURE_MISSING', at: OLD },
  {
    topic: payments,
    partition: 0,
    offset: 12,
    code: 'RECORD_TRUNCATED',
    at: RECENT,
    headers: { tenant: 'b' },
  },
  // Replayed once before and set aside again: its new replay must name its new dead letter.
  {
    topic: transactions,
    partition: 2,
    offset: 13,
    code: 'RECORD_TRUNCATED',
    at: RECENT,
    headers: { tenant: 'a', [REPLAYED_FROM_HEADER]: 'elsewhere/0/1' },
  },
  { topic: transactions, partition: 0, offset: 14, code: 'FEATURE_MISSING', at: RECENT },
];
const keyOf = (dropped: Dropped) => `account-${dropped.offset}`;
const payloadOf = (dropped: Dropped) => Buffer.from([dropped.offset, 0xff, 0x00]);

function deadLetter(dropped: Dropped): Message {
  const record: InputRecord = {
    key: Buffer.from(keyOf(dropped)),
    value: payloadOf(dropped),
    headers: dropped.headers,
    offset: String(dropped.offset),
    timestamp: String(dropped.at - 1_000),
  };
  const error = new BadRecordError(dropped.code, `${dropped.code} at offset ${dropped.offset}`);
  const { key, value, headers } = toDeadLetter(record, dropped, error);
  return { key, value, headers: headers as NonNullable<Message['headers']>, timestamp: String(dropped.at) };
}

const env = {
  ...process.env,
  STREAMSCORE_KAFKA_BROKERS: brokers.join(','),
  STREAMSCORE_INPUT_TOPIC: transactions,
  STREAMSCORE_LOG_LEVEL: 'warn',
};
const streamscore = (...args: string[]) => runStreamscore(['deadletters', ...args], env);
async function json<T>(...args: string[]): Promise<T> {
  const { stdout } = await streamscore(...args, '--json');
  return JSON.parse(stdout) as T;
}
const text = (value: Buffer | string | (Buffer | string)[] | undefined) => value?.toString();

describe('streamscore deadletters', () => {
  let dltPartitionOf: Map<string, ReadRecord>;

  beforeAll(async () => {
    await createTopics(kafka, [transactions, payments, deadLetterTopic, `${transactions}.elsewhere`], 3);
    const producer = await connectedProducer(kafka);
    try {
      await producer.send({
        topic: deadLetterTopic,
        acks: -1,
        messages: [
          ...DROPPED.map(deadLetter),
          { key: 'stray', value: 'not a dead letter', timestamp: String(OLD) },
        ],
      });
    } finally {
      await producer.disconnect();
    }
    const stored = await readRecords(kafka, deadLetterTopic, DROPPED.length + 1, 30_000);
    dltPartitionOf = new Map(stored.map((read) => [String(read.message.key), read]));
  });

  it('reports the whole topic by code and origin', async () => {
    const report = await json<DeadLettersReport>('report');
    expect(report).toMatchObject({
      topic: deadLetterTopic,
      from: null,
      to: null,
      records: 5,
      notDeadLetters: 1,
    });
    const byCode = Object.fromEntries(report.codes.map((tally) => [tally.code, tally]));
    expect(byCode.RECORD_TRUNCATED).toEqual({
      code: 'RECORD_TRUNCATED',
      count: 3,
      first: new Date(OLD).toISOString(),
      last: new Date(RECENT).toISOString(),
      lastMessage: expect.stringMatching(/^RECORD_TRUNCATED at offset 1[23]$/),
    });
    expect(byCode.FEATURE_MISSING).toMatchObject({ count: 2, lastMessage: 'FEATURE_MISSING at offset 14' });
    const origins = report.origins.map(({ topic, partition, count }) => `${topic}/${partition}:${count}`);
    expect(origins.toSorted()).toEqual(
      [`${payments}/0:1`, `${transactions}/0:2`, `${transactions}/1:1`, `${transactions}/2:1`].toSorted(),
    );
  });

  it('reports a time range only', async () => {
    const report = await json<DeadLettersReport>('report', '--from', '1h');
    expect(report.records).toBe(3);
    expect(report.notDeadLetters).toBe(0);
    expect(report.codes.map(({ code, count }) => `${code}:${count}`).toSorted()).toEqual([
      'FEATURE_MISSING:1',
      'RECORD_TRUNCATED:2',
    ]);
  });

  it('counts in a dry run and publishes nothing', async () => {
    const before = await recordsIn(kafka, transactions);
    const result = await json<ReplayResult>('replay', '--dry-run', '--code', 'feature_missing');
    expect(result).toMatchObject({ dryRun: true, skipped: 3, replayed: [{ topic: transactions, count: 2 }] });
    expect(await recordsIn(kafka, transactions)).toBe(before);
  });

  it('publishes the chosen codes again to the topic each came from, as they were', async () => {
    const result = await json<ReplayResult>('replay', '--code', 'RECORD_TRUNCATED');
    expect(result.skipped).toBe(2);
    expect(result.replayed.toSorted((a, b) => a.topic.localeCompare(b.topic))).toEqual(
      [
        { topic: transactions, count: 2 },
        { topic: payments, count: 1 },
      ].toSorted((a, b) => a.topic.localeCompare(b.topic)),
    );
    const replayed = [
      ...(await readRecords(kafka, transactions, 2, 30_000)),
      ...(await readRecords(kafka, payments, 1, 30_000)),
    ];
    expect(replayed).toHaveLength(3);
    for (const { message } of replayed) {
      const dropped = DROPPED.find((candidate) => keyOf(candidate) === String(message.key))!;
      expect(dropped.code).toBe('RECORD_TRUNCATED');
      expect(message.value).toEqual(payloadOf(dropped));
      const stored = dltPartitionOf.get(keyOf(dropped))!;
      const headers = Object.fromEntries(
        Object.entries(message.headers ?? {}).map(([name, value]) => [name, text(value)]),
      );
      expect(headers).toEqual({
        ...dropped.headers,
        [REPLAYED_FROM_HEADER]: `${deadLetterTopic}/${stored.partition}/${stored.message.offset}`,
      });
    }
  });

  it('publishes into another topic when told', async () => {
    const elsewhere = `${transactions}.elsewhere`;
    const result = await json<ReplayResult>('replay', '--into', elsewhere, '--from', '1h');
    expect(result.replayed).toEqual([{ topic: elsewhere, count: 3 }]);
    expect(await readRecords(kafka, elsewhere, 3, 30_000)).toHaveLength(3);
  });

  it('refuses an unknown code and a missing topic, naming them', async () => {
    await expect(streamscore('replay', '--code', 'RECORD_TRUNKATED')).rejects.toMatchObject({
      stderr: expect.stringMatching(/not a dead-letter code: RECORD_TRUNKATED/),
    });
    await expect(streamscore('replay', '--into', uniqueName('absent'))).rejects.toMatchObject({
      stderr: expect.stringMatching(/TOPIC_MISSING: topic .* does not exist/),
    });
  });

  it('fails at once on a dead letter whose topic is gone', async () => {
    const orphans = uniqueName('dl-orphans.DLT');
    const gone = uniqueName('gone');
    await createTopics(kafka, [orphans], 1);
    const producer = await connectedProducer(kafka);
    try {
      const dropped: Dropped = { topic: gone, partition: 0, offset: 1, code: 'FEATURE_MISSING', at: RECENT };
      await producer.send({ topic: orphans, acks: -1, messages: [deadLetter(dropped)] });
    } finally {
      await producer.disconnect();
    }
    const startedAt = Date.now();
    await expect(streamscore('replay', '--topic', orphans)).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining(`TOPIC_MISSING: topic ${gone} does not exist`),
    });
    // Well inside the reader's 60 s stall timeout: the failure ended the read, no retry outlived it.
    expect(Date.now() - startedAt).toBeLessThan(30_000);
  });

  it('prints a summary for a person', async () => {
    const { stdout } = await streamscore('report', '--from', '1h');
    expect(stdout).toMatch(new RegExp(`^${deadLetterTopic} from .* to now: 3 dead letters\\n`));
    expect(stdout).toMatch(/ {2}RECORD_TRUNCATED: 2, .* to .*; last: RECORD_TRUNCATED at offset 1[23]\n/);
  });
});
