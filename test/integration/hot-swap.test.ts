/**
 * A new model version goes live under a continuous stream without losing or duplicating a prediction,
 * and the operator rolls it back with one command.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Prediction } from '../../src/routing/index.js';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { type RunningService, startService } from '../../src/service/index.js';
import { predictionCodec } from '../support/codecs.js';
import {
  createTopics,
  eventually,
  publishEvents,
  readRecords,
  testKafka,
  uniqueName,
} from '../support/kafka.js';
import { capturingLogger } from '../support/logs.js';
import { runStreamscore } from '../support/processes.js';
import { referenceScores } from '../support/reference.js';
import { MODEL_V1, MODEL_V2, publishVersion, temporaryRepository } from '../support/repository.js';
import { serviceTestConfig } from '../support/service.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers);
const streamscore = (...args: string[]) => runStreamscore(args);

interface Received {
  partition: number;
  offset: bigint;
  prediction: Prediction;
}

async function readPredictions(topic: string, count: number): Promise<Received[]> {
  const records = await readRecords(kafka, topic, count, 120_000);
  return records
    .map(({ partition, message }) => ({
      partition,
      offset: BigInt(message.offset),
      prediction: predictionCodec.decode(message.value),
    }))
    .sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset));
}

describe('hot swap and rollback on a real broker', () => {
  const input = uniqueName('swap-transactions');
  const output = uniqueName('swap-predictions');
  const stream = sampleTransactions({ seed: 404 });
  const take = (count: number) => Array.from({ length: count }, () => stream.next().value as CardTransaction);
  const beforeRollback = take(30_000);
  const afterRollback = take(2_000);
  let repository: string;
  let service: RunningService;
  let received: Received[];

  beforeAll(async () => {
    repository = await temporaryRepository();
    await publishVersion(repository, MODEL_V1, '1');
    await createTopics(kafka, [input, output, `${input}.DLT`], 3);
    const config = serviceTestConfig(
      brokers,
      { input, output, groupId: uniqueName('swap-group') },
      { model: { repository, pollIntervalMs: 100 } },
    );
    service = await startService(config, capturingLogger('warn').logger);
    // Publish in steps so the stream is still flowing when version 2 lands in the repository.
    for (let step = 0; step < 15; step++) {
      await publishEvents(kafka, input, beforeRollback.slice(step * 2_000, (step + 1) * 2_000));
      if (step === 5) await publishVersion(repository, MODEL_V2, '2');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    received = await readPredictions(output, beforeRollback.length);
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('loses and duplicates nothing across the swap', () => {
    expect(received).toHaveLength(beforeRollback.length);
    const ids = new Set(received.map(({ prediction }) => prediction.event_id));
    expect(ids.size).toBe(beforeRollback.length);
    expect(ids).toEqual(new Set(beforeRollback.map((event) => event.event_id)));
  });

  it('switches each partition from version 1 to version 2 once, and scores each event with the version it names', async () => {
    for (const partition of [0, 1, 2]) {
      const versions = received
        .filter((r) => r.partition === partition)
        .map((r) => r.prediction.model_version);
      const firstTwo = versions.indexOf('2');
      expect(firstTwo).toBeGreaterThan(0);
      expect(versions.slice(0, firstTwo).every((version) => version === '1')).toBe(true);
      expect(versions.slice(firstTwo).every((version) => version === '2')).toBe(true);
    }
    const v1 = await referenceScores(beforeRollback, join(MODEL_V1, 'model.onnx'));
    const v2 = await referenceScores(beforeRollback, join(MODEL_V2, 'model.onnx'));
    let worst = 0;
    for (const { prediction } of received) {
      const reference = (prediction.model_version === '1' ? v1 : v2).get(prediction.event_id)!;
      worst = Math.max(worst, Math.abs(prediction.score - reference));
    }
    expect(worst).toBeLessThanOrEqual(1e-5);
  });

  it('rolls back with one command, lists what serves, and scores new events with the old version', async () => {
    const rollback = await streamscore('models', 'rollback', 'fraud-gbm', '--admin-url', service.adminUrl);
    expect(rollback.stdout.trim()).toBe(
      'fraud-gbm: rollback, revision 1: serving fraud-gbm@1 (was fraud-gbm@2)',
    );
    const list = await streamscore('models', 'list', '--admin-url', service.adminUrl);
    expect(list.stdout).toMatch(
      /^fraud-gbm: serving fraud-gbm@1; refused fraud-gbm@2; revision 1: rollback by admin-api@/,
    );

    // The repository is polled every 100 ms; version 2 must stay out.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(service.deployments.controller.plan().champion).toBe('fraud-gbm@1');
    await publishEvents(kafka, input, afterRollback);
    const all = await readPredictions(output, beforeRollback.length + afterRollback.length);
    const late = new Set(afterRollback.map((event) => event.event_id));
    const rolledBack = all.filter(({ prediction }) => late.has(prediction.event_id));
    expect(rolledBack).toHaveLength(afterRollback.length);
    expect(rolledBack.every(({ prediction }) => prediction.model_version === '1')).toBe(true);
  });

  it('answers unknown models and wrong methods on the admin API with 404 and 405', async () => {
    expect((await fetch(`${service.adminUrl}/v1/models/nope/rollback`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${service.adminUrl}/v1/models/fraud-gbm/rollback`)).status).toBe(405);
    const again = await fetch(`${service.adminUrl}/v1/models/fraud-gbm/rollback`, { method: 'POST' });
    expect(again.status).toBe(409);
    expect(
      await eventually(() => service.deployments.controller.plan().champion === 'fraud-gbm@1', 1_000),
    ).toBe(true);
  });
});
