/**
 * The ground-truth join against the real broker: predictions published with the prediction schema to a
 * three-partition topic, labels for a known subset to a two-partition one. The online figures must equal
 * the offline computation over the same events; then the joiner is stopped with predictions still waiting,
 * the remaining labels are published while nothing runs, and a new joiner started from the topics alone
 * must end with the figures of every label: no join lost across the restart, none counted twice.
 */
import type { Message, Producer } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAvroCodec, loadAvroSchema } from '../../src/codec/index.js';
import { loadConfig } from '../../src/config/index.js';
import {
  createLabelJoiner,
  type GroundTruthLabel,
  LABEL_SCHEMA_PATH,
  type LabelJoiner,
} from '../../src/monitoring/labels-consumer.js';
import type { Prediction } from '../../src/routing/index.js';
import { seededRandom } from '../../src/sample/random.js';
import { predictionCodec } from '../support/codecs.js';
import {
  expectReportToMatch,
  offlineFigures,
  syntheticClassLabels,
  syntheticLabels,
  syntheticPredictions,
  tallyKey,
} from '../support/ground-truth.js';
import {
  connectedProducer,
  createTopics,
  eventually,
  testKafka,
  uniqueName,
  withAdmin,
} from '../support/kafka.js';
import { capturingLogger } from '../support/logs.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers);
const labelCodec = createAvroCodec<GroundTruthLabel>(loadAvroSchema(LABEL_SCHEMA_PATH));
const HOUR = 3_600_000;
const TTL = HOUR;

describe('ground-truth join on Kafka', () => {
  const predictionsTopic = uniqueName('gt-predictions');
  const labelsTopic = uniqueName('gt-labels');
  const clientId = uniqueName('gt-join');
  const settings = loadConfig({ env: {}, overrides: { kafka: { brokers, clientId } } }).kafka;
  const { logger, lines } = capturingLogger('info');

  const random = seededRandom(2027);
  const predictions = syntheticPredictions(random, 600, Date.now() - 2 * HOUR);
  const labels = syntheticLabels(random, predictions, 0.5);
  // Published before their predictions, while the first joiner runs: they wait for them.
  const early = labels.slice(0, 10);
  const beforeRestart = labels.slice(10, 150);
  const whileStopped = labels.slice(150);
  // Scored longer than the TTL ago: outside the window every joiner starts from, so never joined.
  const stale = syntheticPredictions(seededRandom(5), 20, Date.now() - 3 * HOUR).map((prediction) => ({
    ...prediction,
    event_id: `stale-${prediction.event_id}`,
  }));
  const staleLabels = syntheticLabels(seededRandom(6), stale, 1);
  // After the restart, once the second joiner has replayed: it goes on joining live.
  const later = syntheticPredictions(seededRandom(7), 100, Date.now() - HOUR / 2).map((prediction) => ({
    ...prediction,
    event_id: `later-${prediction.event_id}`,
  }));
  const laterLabels = syntheticLabels(seededRandom(8), later, 0.6);

  let producer: Producer;
  const joiners: LabelJoiner[] = [];

  const startJoiner = () => {
    const joiner = createLabelJoiner(settings, logger, {
      predictionsTopic,
      labelsTopic,
      ttlMs: TTL,
      maxPendingPredictions: 10_000,
      maxPendingLabels: 1_000,
      predictionDecoder: predictionCodec,
      labelDecoder: labelCodec,
      classLabelsOf: syntheticClassLabels,
    });
    joiners.push(joiner);
    return joiner;
  };

  const publishPredictions = (batch: readonly Prediction[], timestamp?: number) =>
    producer.send({
      topic: predictionsTopic,
      acks: -1,
      messages: batch.map(
        (prediction): Message => ({
          key: prediction.event_id,
          value: predictionCodec.encode(prediction),
          ...(timestamp === undefined ? {} : { timestamp: String(timestamp) }),
        }),
      ),
    });
  const publishLabels = (batch: readonly GroundTruthLabel[], extra: Message[] = []) =>
    producer.send({
      topic: labelsTopic,
      acks: -1,
      messages: [
        ...batch.map((label) => ({ key: label.event_id, value: labelCodec.encode(label) })),
        ...extra,
      ],
    });

  /** Every tally's report against the offline figures over `joined`. */
  const expectFigures = (joiner: LabelJoiner, scored: readonly Prediction[], joined: GroundTruthLabel[]) => {
    const offline = offlineFigures(scored, joined);
    const tallies = joiner.tallies();
    expect(
      tallies.map((figures) => tallyKey(figures.modelName, figures.modelVersion, figures.variant)).sort(),
    ).toEqual([...offline.keys()].sort());
    for (const figures of tallies) {
      expectReportToMatch(
        figures.report(),
        offline.get(tallyKey(figures.modelName, figures.modelVersion, figures.variant))!,
      );
      expect(figures.expired).toBe(0);
    }
  };

  beforeAll(async () => {
    await createTopics(kafka, [predictionsTopic], 3);
    await createTopics(kafka, [labelsTopic], 2);
    producer = await connectedProducer(kafka);
    await publishPredictions(stale, Date.now() - 2 * TTL);
    await publishLabels(staleLabels);
  });

  // A test that fails halfway leaves no joiner running into the next.
  afterEach(async () => {
    await Promise.allSettled(joiners.splice(0).map((joiner) => joiner.stop()));
  });

  afterAll(async () => {
    await producer?.disconnect();
  });

  it('joins labels to predictions as they come, with the offline figures', async () => {
    const joiner = startJoiner();
    await joiner.start();
    expect(joiner.counts()).toMatchObject({
      replaying: false,
      predictionsRead: 0,
      labelsRead: staleLabels.length,
      pendingLabels: staleLabels.length,
    });

    await publishLabels(early);
    expect(
      await eventually(() => joiner.counts().pendingLabels === staleLabels.length + early.length, 30_000),
    ).toBe(true);
    await publishPredictions(predictions);
    // The two topics are followed apart: read the predictions first, so the label that is neither class
    // label meets its prediction (rather than waiting, and being replaced by the real one).
    expect(await eventually(() => joiner.counts().predictionsRead === predictions.length, 30_000)).toBe(true);
    const unknown = { ...beforeRestart[0]!, label: 'not sure' };
    const orphan = { ...beforeRestart[0]!, event_id: 'never-scored' };
    await publishLabels(
      [unknown, ...beforeRestart, orphan],
      [{ key: 'garbage', value: Buffer.from([0xff, 0x01]) }],
    );

    const joinedSoFar = early.length + beforeRestart.length;
    expect(await eventually(() => joiner.counts().joined === joinedSoFar, 60_000)).toBe(true);
    expect(
      await eventually(() => joiner.counts().labelsRead === staleLabels.length + joinedSoFar + 3, 30_000),
    ).toBe(true);
    expect(joiner.counts()).toMatchObject({
      predictionsRead: predictions.length,
      pendingPredictions: predictions.length - joinedSoFar,
      pendingLabels: staleLabels.length + 1,
      unknownLabels: 1,
      undecodableLabels: 1,
      undecodablePredictions: 0,
    });
    expectFigures(joiner, predictions, [...early, ...beforeRestart]);
    expect(lines.filter((line) => String(line.msg).includes('neither class label'))).toHaveLength(1);
    expect(lines.filter((line) => String(line.msg).includes('do not decode'))).toHaveLength(1);

    await joiner.stop();
  });

  it('loses no join across a restart: a new joiner rebuilt from the topics ends with every label', async () => {
    await publishLabels(whileStopped);
    const joiner = startJoiner();
    await joiner.start();
    const all = [...early, ...beforeRestart, ...whileStopped];
    // Once replayed, every label published so far is joined, once.
    expect(joiner.counts()).toMatchObject({
      replaying: false,
      joined: all.length,
      pendingPredictions: predictions.length - all.length,
      predictionsRead: predictions.length,
      unknownLabels: 1,
    });
    expectFigures(joiner, predictions, all);

    await publishPredictions(later);
    await publishLabels(laterLabels);
    expect(await eventually(() => joiner.counts().joined === all.length + laterLabels.length, 60_000)).toBe(
      true,
    );
    expectFigures(joiner, [...predictions, ...later], [...all, ...laterLabels]);
    await joiner.stop();
  });

  it('refuses to start on a missing labels topic, and stops following the predictions', async () => {
    const joiner = createLabelJoiner(settings, logger, {
      predictionsTopic,
      labelsTopic: uniqueName('gt-missing'),
      ttlMs: TTL,
      maxPendingPredictions: 10_000,
      maxPendingLabels: 1_000,
      predictionDecoder: predictionCodec,
      labelDecoder: labelCodec,
      classLabelsOf: syntheticClassLabels,
    });
    await expect(joiner.start()).rejects.toMatchObject({ code: 'TOPIC_MISSING' });
    // The predictions were replayed before the labels topic was looked for.
    expect(joiner.counts().predictionsRead).toBe(predictions.length + later.length);
  });

  it('gives up starting when stopped meanwhile', async () => {
    const joiner = startJoiner();
    const starting = joiner.start();
    await joiner.stop();
    await expect(starting).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
  });

  it('leaves no consumer group behind', async () => {
    const groups = await withAdmin(kafka, (admin) => admin.listGroups());
    expect(groups.groups.filter(({ groupId }) => groupId.startsWith(clientId))).toEqual([]);
  });
});
