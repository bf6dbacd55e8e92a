/**
 * `streamscore produce --labels-topic` as a team trying streamscore runs it: sample events and their ground
 * truth on the broker, then `experiments backtest` judging the sample models by it. Every event gets one
 * label keyed by its id, and the models score on the stream as their manifests say they scored on their
 * test split: precision and recall within four standard errors of the training script's figures, so the
 * sample stream, its labels, the feature mapping and the runtime all agree with models/train.py.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import type { ModelOutcome } from '../../src/cli/backtest.js';
import type { BacktestReport } from '../../src/cli/commands/backtest.js';
import { createAvroCodec, loadAvroSchema } from '../../src/codec/index.js';
import { packagePath } from '../../src/config/index.js';
import { type GroundTruthLabel, LABEL_SCHEMA_PATH } from '../../src/monitoring/index.js';
import { eventCodec } from '../support/codecs.js';
import { createTopics, readRecords, testKafka, uniqueName } from '../support/kafka.js';
import { runStreamscore } from '../support/processes.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers);
const labelCodec = createAvroCodec<GroundTruthLabel>(loadAvroSchema(LABEL_SCHEMA_PATH));
const EVENTS = 20_000;
const TRAINING_FRAUD_RATE = 1_373 / 50_000;
/** Positives in the manifests' 10,000-event test split: what their recall was measured over. */
const TEST_SPLIT_POSITIVES = 275;

interface AtThreshold {
  precision: number;
  recall: number;
}

function trainingFigures(model: string): AtThreshold {
  const manifest = JSON.parse(readFileSync(packagePath(`models/${model}/1/manifest.json`), 'utf8')) as {
    training: { metrics: { at_threshold: AtThreshold } };
  };
  return manifest.training.metrics.at_threshold;
}

/** Online against offline, each a binomial share: within four standard errors of their difference. */
function expectLikeTraining(outcome: ModelOutcome): void {
  const truth = outcome.groundTruth!;
  const offline = trainingFigures(outcome.model);
  const positives = truth.true_positives + truth.false_negatives;
  const flagged = truth.true_positives + truth.false_positives;
  const band = (share: number, online: number, offlineCount: number) =>
    4 * Math.sqrt(share * (1 - share) * (1 / online + 1 / offlineCount));
  expect(Math.abs(truth.recall! - offline.recall)).toBeLessThan(
    band(offline.recall, positives, TEST_SPLIT_POSITIVES),
  );
  const offlineFlagged = (TEST_SPLIT_POSITIVES * offline.recall) / offline.precision;
  expect(Math.abs(truth.precision! - offline.precision)).toBeLessThan(
    band(offline.precision, flagged, offlineFlagged),
  );
}

describe('sample events published with their ground truth', () => {
  const input = uniqueName('labelled-transactions');
  const labelsTopic = uniqueName('labelled-labels');
  const env = {
    ...process.env,
    STREAMSCORE_KAFKA_BROKERS: brokers.join(','),
    STREAMSCORE_INPUT_TOPIC: input,
    STREAMSCORE_MONITORING_LABELS_TOPIC: labelsTopic,
    STREAMSCORE_LOG_LEVEL: 'warn',
  };

  it('labels every event once, and the sample models score on it as their training said', async () => {
    await createTopics(kafka, [input, labelsTopic], 3);
    await runStreamscore(
      ['produce', '-n', String(EVENTS), '--seed', '21', '--labels-topic', labelsTopic],
      env,
    );

    const events = (await readRecords(kafka, input, EVENTS, 60_000)).map(({ message }) =>
      eventCodec.decode(message.value),
    );
    const labels = (await readRecords(kafka, labelsTopic, EVENTS, 60_000)).map(({ message }) => ({
      key: message.key?.toString(),
      label: labelCodec.decode(message.value),
    }));
    const eventTimes = new Map(events.map((event) => [event.event_id, event.event_time]));
    expect(labels).toHaveLength(EVENTS);
    expect(new Set(labels.map(({ label }) => label.event_id))).toEqual(new Set(eventTimes.keys()));
    expect(labels.filter(({ key, label }) => key !== label.event_id)).toEqual([]);
    expect(labels.filter(({ label }) => label.label_time < eventTimes.get(label.event_id)!)).toEqual([]);

    const backtest = JSON.parse(
      (
        await runStreamscore(
          ['experiments', 'backtest', 'fraud-mlp@1', '--against', 'fraud-gbm@1', '--json'],
          env,
        )
      ).stdout,
    ) as BacktestReport;
    expect([backtest.labelsTopic, backtest.labels]).toEqual([labelsTopic, EVENTS]);
    for (const outcome of [backtest.baseline, backtest.candidate]) {
      const truth = outcome.groundTruth!;
      expect(truth.labelled).toBe(EVENTS);
      const fraudRate = (truth.true_positives + truth.false_negatives) / EVENTS;
      expect(Math.abs(fraudRate - TRAINING_FRAUD_RATE)).toBeLessThan(
        4 * Math.sqrt((TRAINING_FRAUD_RATE * (1 - TRAINING_FRAUD_RATE)) / EVENTS),
      );
      expectLikeTraining(outcome);
    }
  });
});
