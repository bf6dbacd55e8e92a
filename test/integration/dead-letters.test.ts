/**
 * Records that cannot be scored go to the dead-letter topic with their reason, keep their key, value and
 * headers, and never stop their partition: every good record around them is predicted and the committed
 * offsets move past them.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAvroCodec, loadAvroSchema } from '../../src/codec/index.js';
import { packagePath } from '../../src/config/index.js';
import { DeadLetterHeaders } from '../../src/routing/index.js';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { type RunningService, startService } from '../../src/service/index.js';
import {
  committedVersusEnd,
  createTopics,
  eventually,
  type ReadRecord,
  readRecords,
  testKafka,
  uniqueName,
} from '../support/kafka.js';
import { capturingLogger } from '../support/logs.js';
import { serviceTestConfig } from '../support/service.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers);
const codec = createAvroCodec<CardTransaction>(loadAvroSchema(packagePath('schemas/card-transaction.avsc')));

describe('dead-letter topic', () => {
  const input = uniqueName('dlt-transactions');
  const output = uniqueName('dlt-predictions');
  const deadLetterTopic = `${input}.DLT`;
  const groupId = uniqueName('dlt-group');
  const { logger, lines } = capturingLogger('info');
  const stream = sampleTransactions({ seed: 99 });
  const good = Array.from({ length: 3_000 }, () => stream.next().value as CardTransaction);
  const encoded = codec.encode(good[0]!);
  // The channel enum's byte is where a POS and an ATM encoding of the same event differ; 2 * 9 is index 9.
  const pos = codec.encode({ ...good[0]!, channel: 'POS' });
  const atm = codec.encode({ ...good[0]!, channel: 'ATM' });
  const badChannel = Buffer.from(pos);
  badChannel[pos.findIndex((byte, index) => byte !== atm[index])] = 2 * 9;
  const badValues: { value: Buffer | null; code: string }[] = [
    { value: null, code: 'RECORD_EMPTY' },
    { value: encoded.subarray(0, encoded.length - 3), code: 'RECORD_TRUNCATED' },
    { value: Buffer.concat([encoded, Buffer.from([1, 2, 3])]), code: 'RECORD_TRAILING_BYTES' },
    { value: badChannel, code: 'RECORD_UNDECODABLE' },
    { value: codec.encode({ ...good[1]!, amount_minor: -500 }), code: 'FEATURE_NOT_FINITE' },
  ];
  let service: RunningService;
  let deadLetters: ReadRecord[];

  beforeAll(async () => {
    await createTopics(kafka, [input, output, deadLetterTopic], 3);
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    // Every bad kind goes to every partition, between good records, with a header of its own.
    const messages = good.map((event) => ({
      key: event.account_id,
      value: codec.encode(event) as Buffer | null,
    }));
    const bad = [0, 1, 2].flatMap((partition) =>
      badValues.map(({ value, code }) => ({
        partition,
        key: `bad-${code}`,
        value,
        headers: { 'x-origin': `test-${partition}` },
      })),
    );
    await producer.send({ topic: input, messages: messages.slice(0, 1_500), acks: -1 });
    await producer.send({ topic: input, messages: bad, acks: -1 });
    await producer.send({ topic: input, messages: messages.slice(1_500), acks: -1 });
    await producer.disconnect();
    service = await startService(serviceTestConfig(brokers, { input, output, groupId }), logger);
    deadLetters = await readRecords(kafka, deadLetterTopic, badValues.length * 3, 60_000);
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('predicts every good record and moves the committed offsets past the bad ones', async () => {
    const predictions = await readRecords(kafka, output, good.length, 60_000);
    expect(predictions).toHaveLength(good.length);
    const settled = await eventually(
      async () =>
        (await committedVersusEnd(kafka, groupId, input)).every(({ committed, end }) => committed === end),
      30_000,
    );
    expect(settled).toBe(true);
  });

  it('dead-letters each bad record once, with its code, origin, and its own key, value and headers', () => {
    expect(deadLetters).toHaveLength(badValues.length * 3);
    for (const { message } of deadLetters) {
      const header = (name: string) => message.headers?.[name]?.toString();
      const code = header(DeadLetterHeaders.errorCode)!;
      expect(message.key?.toString()).toBe(`bad-${code}`);
      const original = badValues.find((bad) => bad.code === code)!;
      expect(message.value === null ? null : Buffer.from(message.value)).toEqual(original.value);
      expect(header(DeadLetterHeaders.originalTopic)).toBe(input);
      expect(header('x-origin')).toBe(`test-${header(DeadLetterHeaders.originalPartition)}`);
      expect(Number(header(DeadLetterHeaders.originalOffset))).toBeGreaterThanOrEqual(0);
      expect(Number(header(DeadLetterHeaders.originalTimestamp))).toBeGreaterThan(0);
      expect(header(DeadLetterHeaders.exceptionClass)).toBe('BadRecordError');
      expect(header(DeadLetterHeaders.exceptionMessage)?.length).toBeGreaterThan(0);
    }
    const codes = deadLetters
      .map(({ message }) => message.headers?.[DeadLetterHeaders.errorCode]?.toString())
      .sort();
    expect(codes).toEqual(badValues.flatMap(({ code }) => [code, code, code]).sort());
  });

  it('logs each bad record with topic, partition, offset and code, and counts it by code', () => {
    const rejected = lines.filter((line) => line.msg === 'record rejected');
    expect(rejected).toHaveLength(badValues.length * 3);
    for (const line of rejected)
      expect(line).toMatchObject({ topic: input, partition: expect.any(Number), offset: expect.any(String) });
    expect(service.counters.rejectedByCode).toEqual(
      Object.fromEntries(badValues.map(({ code }) => [code, 3])),
    );
  });

  it('never writes a card number to the log', () => {
    const text = JSON.stringify(lines);
    expect(good.some((event) => text.includes(event.card_number))).toBe(false);
  });
});
