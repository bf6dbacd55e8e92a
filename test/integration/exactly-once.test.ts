/**
 * Exactly-once mode on a real broker: predictions, dead letters and input offsets of each partition batch
 * are committed in one transaction, so a read_committed consumer sees each prediction once and the group's
 * committed offsets are exactly those of the transactions. (Kills and zombies are in test/faults/.)
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { type RunningService, startService } from '../../src/service/index.js';
import { predictionCodec } from '../support/codecs.js';
import {
  committedVersusEnd,
  createTopics,
  eventually,
  publishEvents,
  readRecords,
  testKafka,
  uniqueName,
} from '../support/kafka.js';
import { capturingLogger } from '../support/logs.js';
import { serviceTestConfig } from '../support/service.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers);

describe('exactly-once mode', () => {
  const input = uniqueName('eos-transactions');
  const output = uniqueName('eos-predictions');
  const groupId = uniqueName('eos-group');
  const stream = sampleTransactions({ seed: 7_777 });
  const events = Array.from({ length: 10_000 }, () => stream.next().value as CardTransaction);
  const { logger, lines } = capturingLogger('warn');
  let service: RunningService;

  beforeAll(async () => {
    await createTopics(kafka, [input, output, `${input}.DLT`], 3);
    service = await startService(
      serviceTestConfig(brokers, { input, output, groupId }, { output: { exactlyOnce: true } }),
      logger,
    );
    await publishEvents(kafka, input, events);
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('shows a read_committed consumer each prediction exactly once', async () => {
    // kafkajs consumers read committed records only unless told otherwise.
    const records = await readRecords(kafka, output, events.length, 60_000);
    const ids = records.map(({ message }) => predictionCodec.decode(message.value).event_id);
    expect(ids).toHaveLength(events.length);
    expect(new Set(ids)).toEqual(new Set(events.map((event) => event.event_id)));
  });

  it('commits the input offsets through the transactions', async () => {
    const settled = await eventually(
      async () =>
        (await committedVersusEnd(kafka, groupId, input)).every(({ committed, end }) => committed === end),
      30_000,
    );
    expect(settled).toBe(true);
    expect(service.counters.predictionsOut).toBe(events.length);
  });

  it('writes transaction markers after the predictions: the output ends past the last prediction', async () => {
    const ends = await committedVersusEnd(kafka, uniqueName('nobody'), output);
    const total = ends.reduce((sum, { end }) => sum + Number(end), 0);
    // Each committed transaction adds one control record per partition it wrote to.
    expect(total).toBeGreaterThan(events.length);
  });

  // kafkajs logs at ERROR every retry of a transaction step the coordinator is still finishing (the
  // previous commit's markers): routine in this mode, so it must not read as an error.
  it('logs nothing at ERROR', () => {
    expect(lines.filter((line) => Number(line.level) >= 50)).toEqual([]);
  });
});
