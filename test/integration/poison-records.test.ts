/**
 * Records the model itself fails on, on a real broker, with the fraud-poison fixture: onnxruntime raises an
 * error on any inference call that holds a record whose amount_minor is 1e8 or more. With three partitions
 * flowing at once their rows share inference calls, and exactly the poison records are dead-lettered; at low
 * traffic a lone poison record is dead-lettered too, and its partition moves on.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { packagePath } from '../../src/config/index.js';
import { DeadLetterHeaders } from '../../src/routing/index.js';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { type RunningService, startService } from '../../src/service/index.js';
import { eventCodec, predictionCodec } from '../support/codecs.js';
import {
  committedVersusEnd,
  connectedProducer,
  createTopics,
  eventually,
  type ReadRecord,
  readRecords,
  recordsIn,
  testKafka,
  uniqueName,
} from '../support/kafka.js';
import { capturingLogger } from '../support/logs.js';
import { serviceTestConfig } from '../support/service.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers);
const PARTITIONS = 3;
const POISON_AMOUNT_MINOR = 7_300_000_000;
/** The out-of-range index onnxruntime's message quotes for a poison record: amount_minor × 1e-8. */
const LOOKUP_INDEX = 73;

async function produce(events: readonly { event: CardTransaction; partition: number }[], topic: string) {
  const producer = await connectedProducer(kafka);
  try {
    const messages = events.map(({ event, partition }) => ({
      partition,
      key: event.account_id,
      value: eventCodec.encode(event),
    }));
    for (let start = 0; start < messages.length; start += 2_000)
      await producer.send({ topic, messages: messages.slice(start, start + 2_000), acks: -1 });
  } finally {
    await producer.disconnect();
  }
}

const eventIds = (records: readonly ReadRecord[]) =>
  records.map(({ message }) => eventCodec.decode(message.value).event_id);

describe('records the model fails on', () => {
  const input = uniqueName('poison-transactions');
  const output = uniqueName('poison-predictions');
  const deadLetterTopic = `${input}.DLT`;
  const groupId = uniqueName('poison-group');
  const stream = sampleTransactions({ seed: 404 });
  const next = () => stream.next().value as CardTransaction;
  // Every 97th of 6,000 events is poison: 62 of them, on every partition, among healthy records.
  const flowing = Array.from({ length: 6_000 }, (_, index) => {
    const event = next();
    return {
      partition: index % PARTITIONS,
      event: index % 97 === 13 ? { ...event, amount_minor: POISON_AMOUNT_MINOR } : event,
    };
  });
  const poisonIds = new Set(
    flowing
      .filter(({ event }) => event.amount_minor === POISON_AMOUNT_MINOR)
      .map(({ event }) => event.event_id),
  );
  const healthyIds = new Set(flowing.map(({ event }) => event.event_id).filter((id) => !poisonIds.has(id)));
  const settled = () =>
    eventually(
      async () =>
        (await committedVersusEnd(kafka, groupId, input)).every(({ committed, end }) => committed === end),
      60_000,
    );
  let service: RunningService;

  beforeAll(async () => {
    await createTopics(kafka, [input, output, deadLetterTopic], PARTITIONS);
    await produce(flowing, input);
    const config = serviceTestConfig(
      brokers,
      { input, output, groupId },
      // Inference calls wait up to 20 ms to fill, so the partitions' rows share them.
      {
        model: {
          repository: packagePath('test/fixtures/models'),
          name: 'fraud-poison',
          maxDelayMicros: 20_000,
        },
      },
    );
    service = await startService(config, capturingLogger('warn').logger);
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('dead-letters exactly the poison records, from every partition, and predicts every other one', async () => {
    expect(
      new Set(flowing.filter(({ event }) => poisonIds.has(event.event_id)).map((f) => f.partition)).size,
    ).toBe(PARTITIONS);
    expect(await settled()).toBe(true);
    expect(await recordsIn(kafka, deadLetterTopic)).toBe(poisonIds.size);
    expect(await recordsIn(kafka, output)).toBe(healthyIds.size);

    const deadLetters = await readRecords(kafka, deadLetterTopic, poisonIds.size, 60_000);
    expect(new Set(eventIds(deadLetters))).toEqual(poisonIds);
    for (const { message } of deadLetters) {
      const header = (name: string) => message.headers?.[name]?.toString();
      expect(header(DeadLetterHeaders.errorCode)).toBe('INFERENCE_RECORD_FAILED');
      expect(header(DeadLetterHeaders.exceptionClass)).toBe('BadRecordError');
      // The reason names the model, never onnxruntime's message, which quotes the lookup index.
      const reason = header(DeadLetterHeaders.exceptionMessage)!;
      expect(reason).toContain('fraud-poison@1');
      expect(reason).not.toContain('out of data bounds');
      expect(reason).not.toContain(String(LOOKUP_INDEX));
    }

    const predictions = await readRecords(kafka, output, healthyIds.size, 60_000);
    const predicted = predictions.map(({ message }) => predictionCodec.decode(message.value));
    expect(new Set(predicted.map((prediction) => prediction.event_id))).toEqual(healthyIds);
    expect(predicted.every(({ score }) => score > 0 && score < 1)).toBe(true);
  });

  it('dead-letters a lone poison record at low traffic, and scores what follows it on its partition', async () => {
    expect(await settled()).toBe(true);
    const lone = { partition: 1, event: { ...next(), amount_minor: POISON_AMOUNT_MINOR } };
    await produce([lone], input);
    expect(
      await eventually(async () => (await recordsIn(kafka, deadLetterTopic)) === poisonIds.size + 1, 30_000),
    ).toBe(true);
    const after = Array.from({ length: 3 }, () => ({ partition: 1, event: next() }));
    for (const record of after) await produce([record], input);
    expect(
      await eventually(
        async () => (await recordsIn(kafka, output)) === healthyIds.size + after.length,
        30_000,
      ),
    ).toBe(true);
    expect(await settled()).toBe(true);

    const deadLetters = await readRecords(kafka, deadLetterTopic, poisonIds.size + 1, 60_000);
    expect(eventIds(deadLetters)).toContain(lone.event.event_id);
    const predictions = await readRecords(kafka, output, healthyIds.size + after.length, 60_000);
    const predicted = new Set(
      predictions.map(({ message }) => predictionCodec.decode(message.value).event_id),
    );
    for (const { event } of after) expect(predicted.has(event.event_id)).toBe(true);
    expect(predicted.has(lone.event.event_id)).toBe(false);
  });
});
