import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import type { DriftReport, DriftSeverity } from '../../src/monitoring/drift.js';
import type { GroundTruthReport } from '../../src/monitoring/ground-truth.js';
import {
  DEFAULT_MIN_LABELLED_POSITIVES,
  loadRetrainEventEncoder,
  type RetrainSettings,
  RetrainWatch,
  retrainMonitoringEvent,
} from '../../src/monitoring/retrain.js';

const monitoringEvent = avro.Type.forSchema(
  JSON.parse(readFileSync(new URL('../../schemas/monitoring-event.avsc', import.meta.url), 'utf8')),
);

const T0 = 1_700_000_000_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const SETTINGS: RetrainSettings = {
  retrainMinPrecision: 0.6,
  retrainMinRecall: 0.5,
  retrainOnDrift: true,
  retrainAfterMs: HOUR,
  psiAlert: 0.25,
  driftIgnoreFeatures: [],
};

const severityOf = (psi: number): DriftSeverity => (psi >= 0.25 ? 'ALERT' : psi >= 0.1 ? 'WARN' : 'OK');

/** A window closed at `end` (minutes after T0), 20 minutes long, with these PSIs. */
function driftWindow(end: number, featurePsi: Record<string, number>, scorePsi = 0.02): DriftReport {
  const features = Object.entries(featurePsi).map(([feature, psi]) => ({
    feature,
    psi,
    severity: severityOf(psi),
    missingShare: 0,
    trainingMissingShare: 0,
    movedBins: [],
  }));
  const worstPsi = Math.max(scorePsi, ...features.map((feature) => feature.psi));
  return {
    modelName: 'fraud-logreg',
    modelVersion: '3',
    windowStart: T0 + (end - 20) * MINUTE,
    windowEnd: T0 + end * MINUTE,
    samples: 1_000,
    severity: severityOf(worstPsi),
    scorePsi,
    features,
  };
}

const drifted = (end: number) => driftWindow(end, { log_amount: 0.52, is_ecommerce: 0.04 }, 0.31);
const calm = (end: number) => driftWindow(end, { log_amount: 0.03, is_ecommerce: 0.04 });

/** Feeds the windows, each observed at its close; the suggestions of each. */
function feedDrift(watch: RetrainWatch, windows: DriftReport[]) {
  return windows.map((report) => watch.observeDrift(report, report.windowEnd));
}

function groundTruth(tp: number, fp: number, tn: number, fn: number): GroundTruthReport {
  const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);
  const labelled = tp + fp + tn + fn;
  return {
    variant: 'primary',
    threshold: 0.5,
    labelled,
    true_positives: tp,
    false_positives: fp,
    true_negatives: tn,
    false_negatives: fn,
    precision: ratio(tp, tp + fp),
    recall: ratio(tp, tp + fn),
    false_positive_rate: ratio(fp, fp + tn),
    positive_rate: ratio(tp + fp, labelled),
    label_delay_p50_ms: null,
    label_delay_p99_ms: null,
    expired: 0,
  };
}

/** Precision 0.4 over 100 predicted positives; recall 0.8, well above its limit. */
const imprecise = () => groundTruth(40, 60, 900, 10);
/** Precision 0.8, recall 0.8. */
const healthy = () => groundTruth(80, 20, 900, 20);

/** Feeds one report every `stepMinutes` from `fromMinute`; the suggestions of each. */
function feedGroundTruth(
  watch: RetrainWatch,
  reports: GroundTruthReport[],
  fromMinute = 0,
  stepMinutes = 15,
) {
  return reports.map((report, index) =>
    watch.observeGroundTruth(report, T0 + (fromMinute + index * stepMinutes) * MINUTE),
  );
}

describe('RetrainWatch: drift', () => {
  it('suggests once the windows in a row have been ALERT for retrainAfterMs, not before', () => {
    const watch = new RetrainWatch(SETTINGS);
    const [at20, at40, at60] = feedDrift(watch, [drifted(20), drifted(40), drifted(60)]);
    expect(at20).toEqual([]);
    expect(at40).toEqual([]);
    expect(at60).toHaveLength(1);
    const suggestion = at60![0]!;
    expect(suggestion).toMatchObject({ reason: 'DRIFT', since: T0, limit: 0.25, observed: 0.52 });
    expect(suggestion.evidence).toContain('3 drift windows in a row at ALERT');
    expect(suggestion.evidence).toContain('log_amount 0.520');
    expect(suggestion.evidence).not.toContain('is_ecommerce');
    expect(suggestion.evidence).toContain('score PSI 0.310 (ALERT)');
  });

  it('measures from the first ALERT window, not from the calm windows before it', () => {
    const watch = new RetrainWatch(SETTINGS);
    const suggestions = feedDrift(watch, [calm(20), drifted(40), drifted(60), drifted(80), drifted(100)]);
    expect(suggestions.map((at) => at.length)).toEqual([0, 0, 0, 1, 0]);
    expect(suggestions[3]![0]!.since).toBe(T0 + 20 * MINUTE);
  });

  it('is not repeated while the windows stay ALERT', () => {
    const watch = new RetrainWatch(SETTINGS);
    const windows = Array.from({ length: 12 }, (_, index) => drifted(20 * (index + 1)));
    expect(feedDrift(watch, windows).flat()).toHaveLength(1);
  });

  it('suggests again after a window that is not ALERT and a new hour of ALERT windows', () => {
    const watch = new RetrainWatch(SETTINGS);
    const first = feedDrift(watch, [drifted(20), drifted(40), drifted(60), drifted(80)]).flat();
    const warn = driftWindow(100, { log_amount: 0.2 });
    expect(warn.severity).toBe('WARN');
    const second = feedDrift(watch, [warn, drifted(120), drifted(140), drifted(160)]);
    expect(first).toHaveLength(1);
    expect(second.map((at) => at.length)).toEqual([0, 0, 0, 1]);
    expect(second[3]![0]).toMatchObject({ reason: 'DRIFT', since: T0 + 100 * MINUTE });
    expect(second[3]![0]!.evidence).toContain('3 drift windows in a row');
  });

  it('takes the largest PSI at ALERT, the score included, as observed', () => {
    const watch = new RetrainWatch({ ...SETTINGS, retrainAfterMs: 20 * MINUTE });
    const [suggestion] = watch.observeDrift(driftWindow(20, { log_amount: 0.3 }, 0.45), T0 + 20 * MINUTE);
    expect(suggestion).toMatchObject({ observed: 0.45 });
    expect(suggestion!.evidence).toContain('1 drift window at ALERT');
  });

  it('leaves the ignored features out of the evidence and the observed PSI', () => {
    const watch = new RetrainWatch({
      ...SETTINGS,
      retrainAfterMs: 20 * MINUTE,
      driftIgnoreFeatures: ['hour_of_day'],
    });
    // The window is ALERT by log_amount; hour_of_day moved more but never raises the severity.
    const window = driftWindow(20, { log_amount: 0.3, hour_of_day: 0.9 });
    const [suggestion] = watch.observeDrift(window, T0 + 20 * MINUTE);
    expect(suggestion).toMatchObject({ observed: 0.3 });
    expect(suggestion!.evidence).toContain('log_amount 0.300');
    expect(suggestion!.evidence).not.toContain('hour_of_day');
  });

  it('never suggests when retrainOnDrift is off', () => {
    const watch = new RetrainWatch({ ...SETTINGS, retrainOnDrift: false });
    const windows = Array.from({ length: 12 }, (_, index) => drifted(20 * (index + 1)));
    expect(feedDrift(watch, windows).flat()).toEqual([]);
  });
});

describe('RetrainWatch: precision and recall', () => {
  it('suggests PRECISION once it has been below its limit for retrainAfterMs, not before', () => {
    const watch = new RetrainWatch(SETTINGS);
    const suggestions = feedGroundTruth(watch, [
      imprecise(),
      imprecise(),
      imprecise(),
      imprecise(),
      imprecise(),
    ]);
    expect(suggestions.map((at) => at.length)).toEqual([0, 0, 0, 0, 1]);
    const suggestion = suggestions[4]![0]!;
    expect(suggestion).toMatchObject({ reason: 'PRECISION', since: T0, limit: 0.6, observed: 0.4 });
    expect(suggestion.evidence).toContain('precision 0.400 below 0.6');
    expect(suggestion.evidence).toContain('100 labelled predicted positives (TP 40, FP 60)');
  });

  it('does not repeat it while precision stays low, and suggests again after it recovered and fell again', () => {
    const watch = new RetrainWatch(SETTINGS);
    const held = feedGroundTruth(watch, Array.from({ length: 12 }, imprecise)).flat();
    expect(held).toHaveLength(1);
    // Exactly at the limit counts as recovered.
    const atLimit = groundTruth(60, 40, 900, 10);
    expect(atLimit.precision).toBe(0.6);
    const again = feedGroundTruth(
      watch,
      [atLimit, imprecise(), imprecise(), imprecise(), imprecise(), imprecise()],
      180,
    );
    expect(again.map((at) => at.length)).toEqual([0, 0, 0, 0, 0, 1]);
    expect(again[5]![0]).toMatchObject({ reason: 'PRECISION', since: T0 + 195 * MINUTE });
  });

  it('suggests RECALL likewise, over the labelled actual positives', () => {
    const watch = new RetrainWatch(SETTINGS);
    const missing = () => groundTruth(30, 10, 900, 70);
    const suggestions = feedGroundTruth(watch, Array.from({ length: 8 }, missing));
    expect(suggestions.map((at) => at.length)).toEqual([0, 0, 0, 0, 1, 0, 0, 0]);
    expect(suggestions[4]![0]).toMatchObject({ reason: 'RECALL', since: T0, limit: 0.5, observed: 0.3 });
    expect(suggestions[4]![0]!.evidence).toContain('100 labelled actual positives (TP 30, FN 70)');
    const recovered = feedGroundTruth(
      watch,
      [healthy(), missing(), missing(), missing(), missing(), missing()],
      120,
    );
    expect(recovered.flat().map((suggestion) => suggestion.since)).toEqual([T0 + 135 * MINUTE]);
  });

  it('suggests both when both held', () => {
    const watch = new RetrainWatch(SETTINGS);
    const poor = () => groundTruth(30, 70, 900, 70);
    const suggestions = feedGroundTruth(watch, Array.from({ length: 5 }, poor));
    expect(suggestions[4]!.map((suggestion) => suggestion.reason)).toEqual(['PRECISION', 'RECALL']);
  });

  it('never suggests against a disabled limit (0)', () => {
    const watch = new RetrainWatch({ ...SETTINGS, retrainMinPrecision: 0, retrainMinRecall: 0 });
    const hopeless = () => groundTruth(0, 100, 800, 100);
    expect(hopeless().precision).toBe(0);
    expect(feedGroundTruth(watch, Array.from({ length: 12 }, hopeless)).flat()).toEqual([]);
  });

  it('never judges a null rate or one over too few labelled positives', () => {
    const watch = new RetrainWatch(SETTINGS);
    // No positive prediction and no positive label labelled: both rates null.
    const unjudged = () => groundTruth(0, 0, 1_000, 0);
    expect(feedGroundTruth(watch, Array.from({ length: 12 }, unjudged)).flat()).toEqual([]);
    // One labelled positive short of the minimum, both rates far below their limits.
    const few = DEFAULT_MIN_LABELLED_POSITIVES - 1;
    const thin = () => groundTruth(1, few - 1, 900, few - 1);
    expect(feedGroundTruth(watch, Array.from({ length: 12 }, thin), 180).flat()).toEqual([]);
    // At the minimum they are judged.
    const enough = () => groundTruth(1, few, 900, few);
    const judged = feedGroundTruth(watch, Array.from({ length: 5 }, enough), 360).flat();
    expect(judged.map((suggestion) => suggestion.reason)).toEqual(['PRECISION', 'RECALL']);
  });

  it('takes another minimum of labelled positives when given one', () => {
    const watch = new RetrainWatch(SETTINGS, 200);
    expect(feedGroundTruth(watch, Array.from({ length: 12 }, imprecise)).flat()).toEqual([]);
    expect(() => new RetrainWatch(SETTINGS, 0)).toThrow(RangeError);
  });
});

describe('retrain monitoring event', () => {
  const watch = new RetrainWatch(SETTINGS);
  const suggestion = feedDrift(watch, [drifted(20), drifted(40), drifted(60)])[2]![0]!;
  const event = retrainMonitoringEvent(
    suggestion,
    { name: 'fraud-logreg', version: '3' },
    'streamscore-7f9c',
    T0 + 61 * MINUTE,
  );

  it('maps the suggestion onto the RetrainSuggested record of a RETRAIN_SUGGESTED event', () => {
    expect(event).toEqual({
      kind: 'RETRAIN_SUGGESTED',
      model_name: 'fraud-logreg',
      model_version: '3',
      instance: 'streamscore-7f9c',
      emitted_time: T0 + 61 * MINUTE,
      drift: null,
      ground_truth: null,
      retrain: {
        reason: 'DRIFT',
        since: T0,
        evidence: suggestion.evidence,
        limit: 0.25,
        observed: 0.52,
      },
    });
  });

  it('is a valid MonitoringEvent that decodes back to itself', () => {
    const errors: string[] = [];
    const valid = monitoringEvent.isValid(event, { errorHook: (path) => errors.push(path.join('.')) });
    expect(errors).toEqual([]);
    expect(valid).toBe(true);
    const encoded = loadRetrainEventEncoder().encode(event);
    expect(monitoringEvent.fromBuffer(encoded)).toEqual(event);
  });
});
