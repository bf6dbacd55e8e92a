/**
 * A synthetic stream of predictions and ground-truth labels, and the figures worked out offline from it
 * the plain way (sorting, counting), to check the online tallies against.
 */
import { expect } from 'vitest';
import type { ClassLabels, ClassLabelsOf, GroundTruthReport } from '../../src/monitoring/ground-truth.js';
import type { GroundTruthLabel } from '../../src/monitoring/labels-consumer.js';
import type { Prediction } from '../../src/routing/index.js';
import type { Random } from '../../src/sample/random.js';

export interface SyntheticModel {
  name: string;
  version: string;
  variant: string;
  threshold: number;
  classes: ClassLabels;
}

export const SYNTHETIC_MODELS: readonly SyntheticModel[] = [
  {
    name: 'fraud-gbm',
    version: '3',
    variant: 'primary',
    threshold: 0.5,
    classes: { positive: 'fraud', negative: 'legit' },
  },
  {
    name: 'fraud-mlp',
    version: '2',
    variant: 'canary',
    threshold: 0.25,
    classes: { positive: '1', negative: '0' },
  },
];

export const syntheticClassLabels: ClassLabelsOf = (name, version) =>
  SYNTHETIC_MODELS.find((model) => model.name === name && model.version === version)?.classes;

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** `count` predictions of the synthetic models, event times one second apart from `firstEventTime`. */
export function syntheticPredictions(random: Random, count: number, firstEventTime: number): Prediction[] {
  const predictions: Prediction[] = [];
  for (let index = 0; index < count; index++) {
    const model = SYNTHETIC_MODELS[index % SYNTHETIC_MODELS.length]!;
    const score = random.next();
    const eventTime = firstEventTime + index * 1_000;
    predictions.push({
      event_id: `event-${index}`,
      model_name: model.name,
      model_version: model.version,
      score,
      label: score >= model.threshold ? model.classes.positive : model.classes.negative,
      threshold: model.threshold,
      variant: model.variant,
      event_time: eventTime,
      scored_time: eventTime + 50,
      latency_ms: 3,
    });
  }
  return predictions;
}

/**
 * A label for each prediction with probability `share`: positive more often the higher the score, so
 * every cell of the confusion matrix fills; label_time one minute to ten days after the event.
 */
export function syntheticLabels(random: Random, predictions: readonly Prediction[], share: number) {
  const labels: GroundTruthLabel[] = [];
  for (const prediction of predictions) {
    if (!random.chance(share)) continue;
    const { classes } = SYNTHETIC_MODELS.find((model) => model.name === prediction.model_name)!;
    const positive = random.chance(prediction.score * 0.8 + 0.1);
    const delay = Math.round(MINUTE * ((10 * DAY) / MINUTE) ** random.next());
    labels.push({
      event_id: prediction.event_id,
      label: positive ? classes.positive : classes.negative,
      label_time: prediction.event_time + delay,
      source: random.chance(0.5) ? 'chargeback' : 'analyst',
    });
  }
  return labels;
}

export interface OfflineFigures {
  truePositives: number;
  falsePositives: number;
  trueNegatives: number;
  falseNegatives: number;
  /** label_time − event_time of each joined prediction, ascending. */
  delays: number[];
}

export const tallyKey = (name: string, version: string, variant: string) => `${name}@${version}/${variant}`;

/** The confusion counts per model version and variant, of the predictions whose event has a label. */
export function offlineFigures(
  predictions: readonly Prediction[],
  labels: readonly GroundTruthLabel[],
): Map<string, OfflineFigures> {
  const predictionOf = new Map(predictions.map((prediction) => [prediction.event_id, prediction]));
  const figures = new Map<string, OfflineFigures>();
  for (const label of labels) {
    const prediction = predictionOf.get(label.event_id);
    if (!prediction) continue;
    const { classes } = SYNTHETIC_MODELS.find((model) => model.name === prediction.model_name)!;
    const key = tallyKey(prediction.model_name, prediction.model_version, prediction.variant);
    let entry = figures.get(key);
    if (!entry) {
      entry = { truePositives: 0, falsePositives: 0, trueNegatives: 0, falseNegatives: 0, delays: [] };
      figures.set(key, entry);
    }
    const predicted = prediction.label === classes.positive;
    const actual = label.label === classes.positive;
    if (predicted && actual) entry.truePositives += 1;
    else if (predicted) entry.falsePositives += 1;
    else if (actual) entry.falseNegatives += 1;
    else entry.trueNegatives += 1;
    entry.delays.push(label.label_time - prediction.event_time);
  }
  for (const entry of figures.values()) entry.delays.sort((a, b) => a - b);
  return figures;
}

// The histogram's buckets are 10^(1/20) ≈ 1.122 wide (plus rounding's last bit).
const BUCKET_STEP = 10 ** (1 / 20) * (1 + 1e-12);

const nearestRank = (sorted: readonly number[], q: number) =>
  sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;

/** The online report against the offline figures: counts and rates exact, delays to within one bucket. */
export function expectReportToMatch(report: GroundTruthReport, offline: OfflineFigures): void {
  const { truePositives: tp, falsePositives: fp, trueNegatives: tn, falseNegatives: fn } = offline;
  expect({
    true_positives: report.true_positives,
    false_positives: report.false_positives,
    true_negatives: report.true_negatives,
    false_negatives: report.false_negatives,
    labelled: report.labelled,
  }).toEqual({
    true_positives: tp,
    false_positives: fp,
    true_negatives: tn,
    false_negatives: fn,
    labelled: tp + fp + tn + fn,
  });
  expect(report.precision).toBe(tp / (tp + fp));
  expect(report.recall).toBe(tp / (tp + fn));
  expect(report.false_positive_rate).toBe(fp / (fp + tn));
  expect(report.positive_rate).toBe((tp + fp) / (tp + fp + tn + fn));
  for (const [q, reported] of [
    [0.5, report.label_delay_p50_ms],
    [0.99, report.label_delay_p99_ms],
  ] as const) {
    const exact = nearestRank(offline.delays, q);
    expect(reported).toBeGreaterThanOrEqual(exact);
    expect(reported).toBeLessThanOrEqual(exact * BUCKET_STEP);
  }
}
