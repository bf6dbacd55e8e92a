/**
 * Monitoring through the service, on a real broker, as a fraud team would run it. 200,000 events drawn
 * as the sample model's training data was raise no drift alert; events from `streamscore produce --drift
 * units:amount_minor=100` (a producer switching to cents) are flagged on log_amount in the first window
 * that holds only them, and one retrain is suggested. Labels for a known subset of events are joined to
 * the predictions: the online figures equal an offline computation over the same predictions and labels,
 * across a restart of the service half-way through the labels.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAvroCodec, loadAvroSchema } from '../../src/codec/index.js';
import type { Config } from '../../src/config/index.js';
import {
  type GroundTruthLabel,
  LABEL_SCHEMA_PATH,
  MONITORING_EVENT_SCHEMA_PATH,
  type MonitoringEvent,
} from '../../src/monitoring/index.js';
import type { Prediction } from '../../src/routing/index.js';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { type RunningService, startService } from '../../src/service/index.js';
import { predictionCodec } from '../support/codecs.js';
import {
  committedVersusEnd,
  connectedProducer,
  eventually,
  readRecords,
  testKafka,
  uniqueName,
} from '../support/kafka.js';
import { capturingLogger } from '../support/logs.js';
import { runStreamscore } from '../support/processes.js';
import { serviceTestConfig } from '../support/service.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers);
const monitoringCodec = createAvroCodec<MonitoringEvent>(loadAvroSchema(MONITORING_EVENT_SCHEMA_PATH));
const labelCodec = createAvroCodec<GroundTruthLabel>(loadAvroSchema(LABEL_SCHEMA_PATH));

const UNDRIFTED = 200_000;
const DRIFTED = 30_000;
const WINDOW = 10_000;
const SEED = 21;
/** Every LABEL_EVERY-th undrifted event gets a label, two days after it happened. */
const LABEL_EVERY = 25;
const LABEL_DELAY_MS = 2 * 24 * 3_600_000;

const topics = {
  input: uniqueName('monitored-transactions'),
  output: uniqueName('monitored-predictions'),
  groupId: uniqueName('monitored-group'),
};
const labelsTopic = `${topics.input}.labels`;
const monitoringTopic = `${topics.output}.monitoring`;
const cliEnv = {
  ...process.env,
  STREAMSCORE_KAFKA_BROKERS: brokers.join(','),
  STREAMSCORE_INPUT_TOPIC: topics.input,
  STREAMSCORE_OUTPUT_TOPIC: topics.output,
  STREAMSCORE_INPUT_GROUP_ID: topics.groupId,
  STREAMSCORE_MONITORING_LABELS_TOPIC: labelsTopic,
  STREAMSCORE_LOG_LEVEL: 'warn',
};
const streamscore = (...args: string[]) => runStreamscore(args, cliEnv);

const config: Config = serviceTestConfig(brokers, topics, {
  monitoring: {
    drift: true,
    driftWindowEvents: WINDOW,
    // Windows close by count only here, so which events each holds depends on the stream alone.
    driftWindowMs: 3_600_000,
    driftMinSamples: WINDOW,
    labelsTopic,
    reportIntervalMs: 500,
    retrainAfterMs: 1,
  },
});

async function settled(): Promise<boolean> {
  return eventually(
    async () =>
      (await committedVersusEnd(kafka, topics.groupId, topics.input)).every(
        ({ committed, end }) => committed === end,
      ),
    180_000,
  );
}

async function monitoringEvents(count: number): Promise<MonitoringEvent[]> {
  return (await readRecords(kafka, monitoringTopic, count, 60_000)).map(({ message }) =>
    monitoringCodec.decode(message.value),
  );
}

type Drift = NonNullable<MonitoringEvent['drift']>;
const driftWindows = (events: readonly MonitoringEvent[]): Drift[] =>
  events.flatMap((event) => (event.kind === 'DRIFT' && event.drift ? [event.drift] : []));

describe('drift and ground truth of a served model', () => {
  let service: RunningService;
  let driftStartedAt: number;
  const undrifted = (() => {
    const stream = sampleTransactions({ seed: SEED });
    return Array.from({ length: UNDRIFTED }, () => stream.next().value as CardTransaction);
  })();

  beforeAll(async () => {
    await streamscore('topics', 'create', '--partitions', '3');
    service = await startService(config, capturingLogger('warn').logger);
    await streamscore('produce', '--count', String(UNDRIFTED), '--seed', String(SEED));
  }, 300_000);

  afterAll(async () => {
    await service?.stop();
  });

  it('raises no drift over 200,000 events drawn as the training data was', async () => {
    expect(await settled()).toBe(true);
    // Windows close at the first batch that fills them: a window holds at least WINDOW events, and every
    // event but those of the window still open is in one.
    const windows = driftWindows(await monitoringEvents(UNDRIFTED / (2 * WINDOW)));
    const counted = windows.reduce((sum, window) => sum + Number(window.samples), 0);
    expect(counted).toBeGreaterThan(UNDRIFTED - 2 * WINDOW);
    expect(counted).toBeLessThanOrEqual(UNDRIFTED);
    const worst = Math.max(...windows.flatMap((window) => window.features.map((feature) => feature.psi)));
    expect(windows.map((window) => window.severity)).toEqual(windows.map(() => 'OK'));
    expect(worst).toBeLessThan(0.1);
    for (const window of windows) expect(window.samples).toBeGreaterThanOrEqual(WINDOW);
  });

  it('flags log_amount in the first window of events whose amounts changed units, and suggests a retrain once', async () => {
    const before = (await monitoringEvents(1)).length;
    driftStartedAt = Date.now();
    await streamscore(
      'produce',
      '--count',
      String(DRIFTED),
      '--seed',
      String(SEED + 1),
      '--drift',
      'units:amount_minor=100',
    );
    expect(await settled()).toBe(true);
    let events: MonitoringEvent[] = [];
    expect(
      await eventually(async () => {
        events = await monitoringEvents(before);
        return driftWindows(events).some((window) => window.window_start >= driftStartedAt);
      }, 60_000),
    ).toBe(true);
    const drifted = driftWindows(events).filter((window) => window.window_start >= driftStartedAt);
    const first = drifted[0]!;
    expect(first.severity).toBe('ALERT');
    const amount = first.features.find((feature) => feature.feature === 'log_amount')!;
    expect(amount.severity).toBe('ALERT');
    expect(amount.psi).toBeGreaterThan(1);
    // Nothing else about the events changed: every other feature stays OK.
    for (const feature of first.features.filter((feature) => feature.feature !== 'log_amount'))
      expect(feature.severity, feature.feature).toBe('OK');
    // The amounts all moved up past the training's last decile edge.
    expect(amount.moved_bins[0]?.bin.startsWith('>=')).toBe(true);

    const suggestions = events.filter((event) => event.kind === 'RETRAIN_SUGGESTED');
    expect(suggestions).toHaveLength(1);
    expect(suggestions[0]!.retrain?.reason).toBe('DRIFT');
    expect(suggestions[0]!.retrain?.evidence).toContain('log_amount');

    // `streamscore models list` shows the last window.
    const { stdout } = await streamscore('models', 'list', '--admin-url', service.adminUrl);
    expect(stdout).toMatch(/drift fraud-gbm@1: ALERT over \d+ events .*log_amount PSI/);
  });

  it('joins labels to predictions: online figures equal the offline ones, across a restart', async () => {
    const predictions = new Map<string, Prediction>();
    for (const { message } of await readRecords(kafka, topics.output, UNDRIFTED + DRIFTED, 120_000)) {
      const prediction = predictionCodec.decode(message.value);
      predictions.set(prediction.event_id, prediction);
    }
    const labelled = undrifted.filter((_, index) => index % LABEL_EVERY === 0);
    // The truth is made up, but not at random with respect to the model: positive when the model's score
    // was high, and flipped for every seventh event, so every cell of the confusion matrix fills.
    const labels: GroundTruthLabel[] = labelled.map((event, index) => {
      const score = predictions.get(event.event_id)!.score;
      const positive = score >= 0.05 !== (index % 7 === 0);
      return {
        event_id: event.event_id,
        label: positive ? 'fraud' : 'legit',
        label_time: event.event_time + LABEL_DELAY_MS,
        source: index % 2 === 0 ? 'chargeback' : 'analyst',
      };
    });
    const offline = { tp: 0, fp: 0, tn: 0, fn: 0 };
    for (const label of labels) {
      const predicted = predictions.get(label.event_id)!.label === 'fraud';
      const actual = label.label === 'fraud';
      if (predicted && actual) offline.tp += 1;
      else if (predicted) offline.fp += 1;
      else if (actual) offline.fn += 1;
      else offline.tn += 1;
    }
    expect(Math.min(offline.tp, offline.fp, offline.tn, offline.fn)).toBeGreaterThan(0);

    const half = Math.floor(labels.length / 2);
    await produceLabels(labels.slice(0, half));
    expect(await eventually(async () => (await groundTruth())?.labelled === half, 60_000)).toBe(true);

    await service.stop();
    service = await startService(config, capturingLogger('warn').logger);
    await produceLabels(labels.slice(half));
    expect(await eventually(async () => (await groundTruth())?.labelled === labels.length, 90_000)).toBe(
      true,
    );
    const online = (await groundTruth())!;
    expect({
      tp: online.true_positives,
      fp: online.false_positives,
      tn: online.true_negatives,
      fn: online.false_negatives,
    }).toEqual(offline);
    expect(online.precision).toBeCloseTo(offline.tp / (offline.tp + offline.fp), 12);
    expect(online.recall).toBeCloseTo(offline.tp / (offline.tp + offline.fn), 12);
    expect(online.false_positive_rate).toBeCloseTo(offline.fp / (offline.fp + offline.tn), 12);
    // Label delay quantiles come from a histogram whose buckets are 12% wide.
    expect(online.label_delay_p50_ms! / LABEL_DELAY_MS).toBeGreaterThanOrEqual(1);
    expect(online.label_delay_p50_ms! / LABEL_DELAY_MS).toBeLessThan(1.13);

    // `streamscore models list` shows the same figures.
    const { stdout } = await streamscore('models', 'list', '--admin-url', service.adminUrl);
    expect(stdout).toContain(`ground truth fraud-gbm@1 primary: ${labels.length} labelled`);
  });

  async function produceLabels(labels: readonly GroundTruthLabel[]): Promise<void> {
    const producer = await connectedProducer(kafka);
    try {
      await producer.send({
        topic: labelsTopic,
        messages: labels.map((label) => ({ key: label.event_id, value: labelCodec.encode(label) })),
        acks: -1,
      });
    } finally {
      await producer.disconnect();
    }
  }

  async function groundTruth() {
    const response = await fetch(`${service.adminUrl}/v1/models`);
    const [deployment] = (await response.json()) as {
      groundTruth: (NonNullable<MonitoringEvent['ground_truth']> & { model: string })[];
    }[];
    return deployment?.groundTruth.find((figures) => figures.variant === 'primary');
  }
});
