/**
 * Deployment decisions are data on the control topic, not one process's memory: a rollback and a
 * promotion issued through one instance reach the other instance of the group, survive a restart of both,
 * and switch the champion at batch boundaries under a continuous exactly-once stream, losing and
 * duplicating nothing.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Prediction } from '../../src/routing/index.js';
import { type Comparison, loadComparisonCodec } from '../../src/routing/index.js';
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
import { MODEL_V1, MODEL_V2, publishVersion, temporaryRepository } from '../support/repository.js';
import { serviceTestConfig } from '../support/service.js';

const brokers = inject('kafkaBrokers');
const comparisonCodec = loadComparisonCodec();
const kafka = testKafka(brokers);
const streamscore = (...args: string[]) => runStreamscore(args);

describe('deployment decisions shared through the control topic', () => {
  const input = uniqueName('deploy-transactions');
  const output = uniqueName('deploy-predictions');
  const groupId = uniqueName('deploy-group');
  const stream = sampleTransactions({ seed: 2_024 });
  const take = (count: number) => Array.from({ length: count }, () => stream.next().value as CardTransaction);
  const events = take(24_000);
  let repository: string;
  let instances: RunningService[] = [];
  let predictions: Prediction[];
  const championOf = (service: RunningService) => service.deployments.controller.plan().champion;
  const start = (variant: string) =>
    startService(
      serviceTestConfig(
        brokers,
        { input, output, groupId },
        {
          model: { repository, pollIntervalMs: 100, variant },
          output: { exactlyOnce: true },
          input: { sessionTimeoutMs: 10_000 },
        },
      ),
      capturingLogger('warn').logger,
    );
  const startBoth = async () => {
    instances = [await start('a'), await start('b')];
  };
  const stopBoth = async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    instances = [];
  };
  const publishSlowly = async (slice: CardTransaction[]) => {
    for (let from = 0; from < slice.length; from += 1_000) {
      await publishEvents(kafka, input, slice.slice(from, from + 1_000));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  let afterStart: string[];
  let afterRollback: string[];
  let afterRestart: string[];
  let afterPromotion: string[];
  let rollbackAnswer: string;
  let comparisons: Comparison[];

  beforeAll(async () => {
    repository = await temporaryRepository();
    await publishVersion(repository, MODEL_V1, '1');
    await publishVersion(repository, MODEL_V2, '2');
    await createTopics(kafka, [input, output, `${input}.DLT`, `${output}.comparisons`], 3);
    await startBoth();
    afterStart = instances.map(championOf);
    await publishSlowly(events.slice(0, 6_000));

    rollbackAnswer = (
      await streamscore('models', 'rollback', 'fraud-gbm', '--admin-url', instances[0]!.adminUrl)
    ).stdout;
    await eventually(() => instances.every((instance) => championOf(instance) === 'fraud-gbm@1'), 10_000);
    afterRollback = instances.map(championOf);
    await publishSlowly(events.slice(6_000, 12_000));

    await stopBoth();
    await startBoth();
    afterRestart = instances.map(championOf);
    await publishSlowly(events.slice(12_000, 18_000));

    // Another model as a shadow challenger (a new fraud-gbm version would go live by itself: the champion
    // follows `latest`), promoted through the other instance.
    await publishVersion(repository, MODEL_V2, '1', () => undefined, 'fraud-gbm-next');
    await streamscore(
      'models',
      'challengers',
      'fraud-gbm',
      'next:shadow:fraud-gbm-next@1:0.5',
      '--admin-url',
      instances[1]!.adminUrl,
    );
    await eventually(
      () => instances.every((instance) => instance.deployments.controller.plan().challengers.length > 0),
      10_000,
    );
    await publishSlowly(events.slice(18_000, 21_000));
    await streamscore('models', 'promote', 'fraud-gbm', 'next', '--admin-url', instances[1]!.adminUrl);
    await eventually(
      () => instances.every((instance) => championOf(instance) === 'fraud-gbm-next@1'),
      10_000,
    );
    afterPromotion = instances.map(championOf);
    await publishSlowly(events.slice(21_000));

    const records = await readRecords(kafka, output, events.length, 120_000);
    predictions = records.map(({ message }) => predictionCodec.decode(message.value));
    // kafkajs consumers read committed records only: what a downstream read_committed consumer sees. The
    // shadow saw about half the keys of 3,000 events; reading stops at the deadline, past the last one.
    comparisons = (await readRecords(kafka, `${output}.comparisons`, 3_000, 10_000)).map(({ message }) =>
      comparisonCodec.decode(message.value),
    );
  });

  afterAll(stopBoth);

  it('starts both instances on the latest version, with the one below it loaded as the standby', () => {
    expect(afterStart).toEqual(['fraud-gbm@2', 'fraud-gbm@2']);
    for (const instance of instances) expect(instance.deployments.controller.status().standby).toBeDefined();
  });

  it('rolls back both instances with one command sent to one of them', () => {
    expect(rollbackAnswer.trim()).toBe(
      'fraud-gbm: rollback, revision 1: serving fraud-gbm@1 (was fraud-gbm@2)',
    );
    expect(afterRollback).toEqual(['fraud-gbm@1', 'fraud-gbm@1']);
  });

  it('keeps the rollback across a restart of both: the refused version does not come back', () => {
    expect(afterRestart).toEqual(['fraud-gbm@1', 'fraud-gbm@1']);
    for (const instance of instances)
      expect(instance.deployments.controller.state.refused).toContain('fraud-gbm@2');
  });

  it('promotes a challenger through the other instance, on both', () => {
    expect(afterPromotion).toEqual(['fraud-gbm-next@1', 'fraud-gbm-next@1']);
    const status = instances[0]!.deployments.controller.status();
    expect(status.state.action).toBe('promote');
    expect(status.standby).toBe('fraud-gbm@1');
  });

  it('compares the shadow with the champion while it runs, each event at most once (read_committed)', () => {
    expect(comparisons.length).toBeGreaterThan(1_000);
    const ids = comparisons.map((comparison) => comparison.event_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(comparisons.map((comparison) => comparison.challenger.variant))).toEqual(
      new Set(['next']),
    );
  });

  it('predicts every event exactly once (read_committed), each with a version in force at the time', () => {
    const ids = predictions.map((prediction) => prediction.event_id);
    expect(ids).toHaveLength(events.length);
    expect(new Set(ids)).toEqual(new Set(events.map((event) => event.event_id)));
    const versionOf = new Map(
      predictions.map((prediction) => [
        prediction.event_id,
        `${prediction.model_name}@${prediction.model_version}`,
      ]),
    );
    const versionsIn = (from: number, to: number) =>
      new Set(events.slice(from, to).map((e) => versionOf.get(e.event_id)));
    // Published after each switch had reached both instances: only the version then in force.
    // The shadow never decides: the champion did until the promotion.
    expect(versionsIn(6_000, 21_000)).toEqual(new Set(['fraud-gbm@1']));
    expect(versionsIn(21_000, events.length)).toEqual(new Set(['fraud-gbm-next@1']));
  });
});
