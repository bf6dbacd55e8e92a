/**
 * The whole path on a real broker: Avro events in, ONNX predictions out, offsets committed behind them.
 * Scores are checked against a path that shares nothing with the service but the model file: features
 * written out by hand for this model, and a separate onnxruntime session scoring one row at a time.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { packagePath } from '../../src/config/index.js';
import type { Prediction } from '../../src/routing/index.js';
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
import { referenceScores } from '../support/reference.js';
import { serviceTestConfig } from '../support/service.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers);

describe('end to end on a real broker', () => {
  const input = uniqueName('e2e-transactions');
  const output = uniqueName('e2e-predictions');
  const groupId = uniqueName('e2e-group');
  const events = (() => {
    const stream = sampleTransactions({ seed: 2026 });
    return Array.from({ length: 20_000 }, () => stream.next().value as CardTransaction);
  })();
  let service: RunningService;
  let predictions: { partition: number; key: string; offset: bigint; prediction: Prediction }[];

  beforeAll(async () => {
    await createTopics(kafka, [input, output, `${input}.DLT`], 3);
    // Half the events wait in the topic before the service starts, half arrive while it runs.
    await publishEvents(kafka, input, events.slice(0, 10_000));
    service = await startService(
      serviceTestConfig(brokers, { input, output, groupId }),
      capturingLogger('warn').logger,
    );
    await publishEvents(kafka, input, events.slice(10_000));
    const records = await readRecords(kafka, output, events.length, 120_000);
    predictions = records.map(({ partition, message }) => ({
      partition,
      key: message.key!.toString(),
      offset: BigInt(message.offset),
      prediction: predictionCodec.decode(message.value),
    }));
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('publishes exactly one prediction per event', () => {
    expect(predictions).toHaveLength(events.length);
    const ids = predictions.map(({ prediction }) => prediction.event_id);
    expect(new Set(ids).size).toBe(events.length);
    expect(new Set(ids)).toEqual(new Set(events.map((event) => event.event_id)));
  });

  it('keeps the input key, one partition per key, and each key in input order', () => {
    const sentOrder = new Map<string, string[]>();
    for (const event of events)
      sentOrder.set(event.account_id, [...(sentOrder.get(event.account_id) ?? []), event.event_id]);
    const receivedOrder = new Map<string, string[]>();
    const partitionOfKey = new Map<string, Set<number>>();
    const sorted = [...predictions].sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset));
    for (const { key, partition, prediction } of sorted) {
      receivedOrder.set(key, [...(receivedOrder.get(key) ?? []), prediction.event_id]);
      partitionOfKey.set(key, (partitionOfKey.get(key) ?? new Set()).add(partition));
    }
    expect(receivedOrder).toEqual(sentOrder);
    expect([...partitionOfKey.values()].every((partitions) => partitions.size === 1)).toBe(true);
  });

  it('gives each event the score an independent onnxruntime path gives, within 1e-5', async () => {
    const reference = await referenceScores(events, packagePath('models/fraud-gbm/1/model.onnx'));
    const byId = new Map(events.map((event) => [event.event_id, event]));
    let worst = 0;
    for (const { prediction } of predictions) {
      worst = Math.max(worst, Math.abs(prediction.score - reference.get(prediction.event_id)!));
      expect(prediction.label).toBe(prediction.score >= prediction.threshold ? 'fraud' : 'legit');
      expect(prediction.event_time).toBe(byId.get(prediction.event_id)!.event_time);
      expect(prediction).toMatchObject({ model_name: 'fraud-gbm', model_version: '1', variant: 'primary' });
    }
    expect(worst).toBeLessThanOrEqual(1e-5);
    // The sample stream is meant to look like fraud traffic: some events must be flagged, most not.
    const flagged = predictions.filter(({ prediction }) => prediction.label === 'fraud').length;
    expect(flagged).toBeGreaterThan(0);
    expect(flagged).toBeLessThan(events.length / 2);
  });

  it('commits every input offset once its predictions are out', async () => {
    const settled = await eventually(async () => {
      const offsets = await committedVersusEnd(kafka, groupId, input);
      return offsets.every(({ committed, end }) => committed === end);
    }, 30_000);
    expect(settled).toBe(true);
    expect(service.counters).toMatchObject({
      recordsIn: events.length,
      predictionsOut: events.length,
      rejected: 0,
    });
  });
});
