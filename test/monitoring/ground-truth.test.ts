import { describe, expect, it } from 'vitest';
import { createAvroCodec, loadAvroSchema } from '../../src/codec/index.js';
import { packagePath } from '../../src/config/index.js';
import {
  type GroundTruthMonitoringEvent,
  GroundTruthTallies,
  GroundTruthTally,
  groundTruthMonitoringEvent,
  LabelClass,
} from '../../src/monitoring/ground-truth.js';
import { seededRandom } from '../../src/sample/random.js';
import {
  expectReportToMatch,
  offlineFigures,
  syntheticClassLabels,
  syntheticLabels,
  syntheticPredictions,
  tallyKey,
} from '../support/ground-truth.js';

const FRAUD = { positive: 'fraud', negative: 'legit' };
const tally = () => new GroundTruthTally('fraud-gbm', '3', 'primary', FRAUD, 0.5);

describe('ground-truth tally', () => {
  it('counts each cell of the confusion matrix at the prediction’s own decision', () => {
    const figures = tally();
    expect(figures.record(true, 0, 'fraud', 60_000)).toBe(true);
    expect(figures.record(true, 0, 'legit', 60_000)).toBe(true);
    expect(figures.record(true, 0, 'legit', 60_000)).toBe(true);
    expect(figures.record(false, 0, 'fraud', 60_000)).toBe(true);
    expect(figures.record(false, 0, 'legit', 60_000)).toBe(true);
    expect(figures.record(false, 0, 'legit', 60_000)).toBe(true);
    expect(figures.record(false, 0, 'legit', 60_000)).toBe(true);
    const report = figures.report();
    expect(report).toMatchObject({
      variant: 'primary',
      threshold: 0.5,
      labelled: 7,
      true_positives: 1,
      false_positives: 2,
      true_negatives: 3,
      false_negatives: 1,
      precision: 1 / 3,
      recall: 1 / 2,
      false_positive_rate: 2 / 5,
      positive_rate: 3 / 7,
      label_delay_p50_ms: 60_000,
      label_delay_p99_ms: 60_000,
      expired: 0,
    });
  });

  it('reports no rate before anything it is a share of', () => {
    expect(tally().report()).toMatchObject({
      labelled: 0,
      precision: null,
      recall: null,
      false_positive_rate: null,
      positive_rate: null,
      label_delay_p50_ms: null,
      label_delay_p99_ms: null,
    });
    const negativesOnly = tally();
    negativesOnly.record(false, 0, 'legit', 1_000);
    // No positive prediction and no positive label: precision and recall stay unknown, FPR is 0.
    expect(negativesOnly.report()).toMatchObject({ precision: null, recall: null, false_positive_rate: 0 });
  });

  it('skips a label that is neither class label, counting it apart', () => {
    const figures = tally();
    expect(figures.record(true, 0, 'FRAUD', 1_000)).toBe(false);
    expect(figures.unknownLabels).toBe(1);
    expect(figures.labelled).toBe(0);
    expect(figures.labelDelayMs.total).toBe(0);
  });

  it('counts a label stamped before its event as no delay', () => {
    const figures = tally();
    figures.record(true, 10_000, 'fraud', 4_000);
    expect(figures.labelDelayMs.max).toBe(0);
    expect(figures.report().label_delay_p50_ms).toBe(0);
  });

  it('equals the offline computation over a synthetic set of two models', () => {
    const random = seededRandom(12);
    const predictions = syntheticPredictions(random, 4_000, 1_700_000_000_000);
    const labels = syntheticLabels(random, predictions, 0.4);
    const tallies = new GroundTruthTallies(syntheticClassLabels);
    const predictionOf = new Map(predictions.map((prediction) => [prediction.event_id, prediction]));
    for (const label of labels) {
      const prediction = predictionOf.get(label.event_id)!;
      const index = tallies.indexOf(
        prediction.model_name,
        prediction.model_version,
        prediction.variant,
        prediction.threshold,
      );
      const figures = tallies.at(index);
      const predictedPositive = figures.classOf(prediction.label) === LabelClass.POSITIVE;
      figures.record(predictedPositive, prediction.event_time, label.label, label.label_time);
    }
    const offline = offlineFigures(predictions, labels);
    expect(tallies.all()).toHaveLength(2);
    expect(offline.size).toBe(2);
    for (const figures of tallies.all()) {
      const expected = offline.get(tallyKey(figures.modelName, figures.modelVersion, figures.variant))!;
      expect(expected.truePositives * expected.falsePositives * expected.trueNegatives).toBeGreaterThan(0);
      expectReportToMatch(figures.report(), expected);
    }
  });
});

describe('ground-truth tallies', () => {
  it('keeps one tally per model version and variant, following the latest threshold', () => {
    const tallies = new GroundTruthTallies(syntheticClassLabels);
    const primary = tallies.indexOf('fraud-gbm', '3', 'primary', 0.5);
    const canary = tallies.indexOf('fraud-mlp', '2', 'canary', 0.25);
    expect(canary).not.toBe(primary);
    expect(tallies.indexOf('fraud-gbm', '3', 'primary', 0.5)).toBe(primary);
    // The same version serving as another variant is another tally.
    const other = tallies.indexOf('fraud-gbm', '3', 'canary', 0.5);
    expect(new Set([primary, canary, other]).size).toBe(3);
    expect(tallies.indexOf('fraud-mlp', '2', 'canary', 0.3)).toBe(canary);
    expect(tallies.at(canary).threshold).toBe(0.3);
    expect(tallies.at(canary).classes).toEqual({ positive: '1', negative: '0' });
    expect(tallies.all().map((figures) => figures.variant)).toEqual(['primary', 'canary', 'canary']);
  });

  it('has no tally for a model version whose class labels are unknown', () => {
    const tallies = new GroundTruthTallies(syntheticClassLabels);
    expect(tallies.indexOf('fraud-gbm', '4', 'primary', 0.5)).toBe(-1);
    expect(tallies.all()).toHaveLength(0);
  });
});

describe('ground-truth monitoring event', () => {
  it('is a MonitoringEvent of schemas/monitoring-event.avsc, read back unchanged', () => {
    const figures = tally();
    figures.record(true, 0, 'fraud', 3_600_000);
    figures.record(false, 0, 'fraud', 7_200_000);
    figures.expired = 4;
    const event = groundTruthMonitoringEvent(figures, 'streamscore-1', 1_700_000_000_000);
    const codec = createAvroCodec<GroundTruthMonitoringEvent>(
      loadAvroSchema(packagePath('schemas/monitoring-event.avsc')),
    );
    const decoded = codec.decode(codec.encode(event));
    expect(decoded).toEqual(event);
    expect(decoded).toMatchObject({
      kind: 'GROUND_TRUTH',
      model_name: 'fraud-gbm',
      model_version: '3',
      ground_truth: {
        labelled: 2,
        true_positives: 1,
        false_negatives: 1,
        precision: 1,
        recall: 0.5,
        expired: 4,
      },
    });
  });
});
