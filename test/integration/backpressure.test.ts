/**
 * Backpressure on a real broker: with a queue limit far below one fetch, every batch pushes the engine
 * past model.maxQueuedRows, so the consumer pauses its topic and resumes it once the queue drains; the
 * stream still comes through whole.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { type RunningService, startService } from '../../src/service/index.js';
import { createTopics, publishEvents, readRecords, testKafka, uniqueName } from '../support/kafka.js';
import { capturingLogger } from '../support/logs.js';
import { serviceTestConfig } from '../support/service.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers);

describe('backpressure', () => {
  const input = uniqueName('bp-transactions');
  const output = uniqueName('bp-predictions');
  const stream = sampleTransactions({ seed: 31 });
  const events = Array.from({ length: 6_000 }, () => stream.next().value as CardTransaction);
  const { logger, lines } = capturingLogger('info');
  let service: RunningService;

  beforeAll(async () => {
    await createTopics(kafka, [input, output, `${input}.DLT`], 3);
    await publishEvents(kafka, input, events);
    service = await startService(
      serviceTestConfig(
        brokers,
        { input, output, groupId: uniqueName('bp-group') },
        { model: { maxQueuedRows: 10 } },
      ),
      logger,
    );
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('pauses past the queue limit, resumes when it drains, and loses nothing', async () => {
    const predictions = await readRecords(kafka, output, events.length, 60_000);
    expect(predictions).toHaveLength(events.length);
    const transitions = lines.filter(
      (line) => line.msg === 'consumer paused' || line.msg === 'consumer resumed',
    );
    expect(transitions.length).toBeGreaterThanOrEqual(2);
    // Strictly alternating, starting with a pause: never paused twice, never resumed unpaused.
    transitions.forEach((line, index) => {
      expect(line.msg).toBe(index % 2 === 0 ? 'consumer paused' : 'consumer resumed');
    });
    const paused = transitions.filter((line) => line.msg === 'consumer paused');
    expect(paused.every((line) => Number(line.pendingRows) >= 10)).toBe(true);
  });
});
