/**
 * The dead-letter round trip an operator makes: a model version fails on some records (the fraud-poison
 * fixture raises on amount_minor of 1e8 or more), they are dead-lettered while the rest are scored, a fixed
 * version replaces it, and `streamscore deadletters replay` sends them back to the running service, which
 * scores them with the new version and dead-letters nothing more.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { packagePath } from '../../src/config/index.js';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { type RunningService, startService } from '../../src/service/index.js';
import { predictionCodec } from '../support/codecs.js';
import {
  createTopics,
  eventually,
  publishEvents,
  readRecords,
  recordsIn,
  testKafka,
  uniqueName,
} from '../support/kafka.js';
import { capturingLogger } from '../support/logs.js';
import { runStreamscore } from '../support/processes.js';
import { MODEL_V1, publishVersion, temporaryRepository } from '../support/repository.js';
import { serviceTestConfig } from '../support/service.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers);
const POISON_FIXTURE = packagePath('test/fixtures/models/fraud-poison/1');
const POISON_AMOUNT_MINOR = 7_300_000_000;

describe('dead letters replayed once their cause is fixed', () => {
  const input = uniqueName('replay-transactions');
  const output = uniqueName('replay-predictions');
  const deadLetterTopic = `${input}.DLT`;
  const stream = sampleTransactions({ seed: 77 });
  const events = Array.from({ length: 600 }, (_, index) => {
    const event = stream.next().value as CardTransaction;
    return index % 50 === 7 ? { ...event, amount_minor: POISON_AMOUNT_MINOR } : event;
  });
  const poisonIds = new Set(
    events.filter((e) => e.amount_minor === POISON_AMOUNT_MINOR).map((e) => e.event_id),
  );
  let repository: string;
  let service: RunningService;

  beforeAll(async () => {
    repository = await temporaryRepository();
    await publishVersion(repository, POISON_FIXTURE, '1', () => undefined, 'fraud-poison');
    await createTopics(kafka, [input, output, deadLetterTopic], 3);
    const config = serviceTestConfig(
      brokers,
      { input, output, groupId: uniqueName('replay-group') },
      { model: { repository, name: 'fraud-poison', pollIntervalMs: 100 } },
    );
    service = await startService(config, capturingLogger('warn').logger);
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('scores the replayed records with the fixed version and sets none aside again', async () => {
    await publishEvents(kafka, input, events);
    expect(
      await eventually(async () => (await recordsIn(kafka, deadLetterTopic)) === poisonIds.size, 60_000),
    ).toBe(true);
    expect(
      await eventually(
        async () => (await recordsIn(kafka, output)) === events.length - poisonIds.size,
        60_000,
      ),
    ).toBe(true);

    // The fix: version 2 of the deployment, a model that scores every amount.
    await publishVersion(repository, MODEL_V1, '2', () => undefined, 'fraud-poison');
    expect(
      await eventually(() => service.deployments.controller.plan().champion === 'fraud-poison@2', 30_000),
    ).toBe(true);

    const { stdout } = await runStreamscore(['deadletters', 'replay', '--code', 'INFERENCE_RECORD_FAILED'], {
      ...process.env,
      STREAMSCORE_KAFKA_BROKERS: brokers.join(','),
      STREAMSCORE_INPUT_TOPIC: input,
      STREAMSCORE_LOG_LEVEL: 'warn',
    });
    expect(stdout).toContain(`published ${poisonIds.size} to ${input}`);

    const predictions = (await readRecords(kafka, output, events.length, 60_000)).map(({ message }) =>
      predictionCodec.decode(message.value),
    );
    expect(predictions).toHaveLength(events.length);
    expect(new Set(predictions.map((prediction) => prediction.event_id))).toEqual(
      new Set(events.map((event) => event.event_id)),
    );
    const replayed = predictions.filter((prediction) => poisonIds.has(prediction.event_id));
    expect(replayed.map((prediction) => prediction.model_version)).toEqual([...poisonIds].map(() => '2'));
    expect(await recordsIn(kafka, deadLetterTopic)).toBe(poisonIds.size);
  });
});
