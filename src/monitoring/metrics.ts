/**
 * Monitoring as Prometheus metrics, read at scrape time (the scoring path pays nothing for them): each
 * model version's last drift window (PSI per feature and of the score, missing shares, severity) and the
 * ground-truth figures per model version and variant.
 */
import type { BatchObservableCallback, Meter } from '@opentelemetry/api';
import type { DriftReport, DriftSeverity } from './drift.js';
import type { GroundTruthTally } from './ground-truth.js';

export interface MonitoringFigures {
  drift(): readonly DriftReport[];
  groundTruth(): readonly GroundTruthTally[];
}

const SEVERITY_LEVEL: Record<DriftSeverity, number> = { OK: 0, WARN: 1, ALERT: 2 };

export function registerMonitoringMetrics(meter: Meter, figures: MonitoringFigures): () => void {
  const featurePsi = meter.createObservableGauge('streamscore.drift.psi', {
    description: "PSI of a feature against the model's training baseline, over the last drift window.",
  });
  const scorePsi = meter.createObservableGauge('streamscore.drift.score.psi', {
    description: "PSI of the scores against the model's training baseline, over the last drift window.",
  });
  const missing = meter.createObservableGauge('streamscore.drift.missing.ratio', {
    description: "Share of the last drift window's events whose feature's field was null.",
  });
  const severity = meter.createObservableGauge('streamscore.drift.severity', {
    description: 'Severity of the last drift window: 0 OK, 1 WARN, 2 ALERT.',
  });
  const labelled = meter.createObservableCounter('streamscore.ground_truth.labelled', {
    description: 'Predictions joined to a ground-truth label, by outcome at the prediction threshold.',
  });
  const expired = meter.createObservableCounter('streamscore.ground_truth.expired', {
    description: 'Predictions whose label did not arrive within monitoring.labelTtlMs.',
  });
  const rates = {
    precision: meter.createObservableGauge('streamscore.ground_truth.precision', {
      description: 'Share of labelled positive predictions that were labelled positive.',
    }),
    recall: meter.createObservableGauge('streamscore.ground_truth.recall', {
      description: 'Share of labelled positive events the model predicted positive.',
    }),
    false_positive_rate: meter.createObservableGauge('streamscore.ground_truth.false_positive.ratio', {
      description: 'Share of labelled negative events the model predicted positive.',
    }),
    positive_rate: meter.createObservableGauge('streamscore.ground_truth.positive.ratio', {
      description: 'Share of labelled predictions that were positive.',
    }),
  } as const;
  const delay = meter.createObservableGauge('streamscore.ground_truth.label.delay.seconds', {
    description: 'Label delay (label_time - event_time) quantiles of the joined labels.',
    unit: 's',
  });
  const observables = [
    featurePsi,
    scorePsi,
    missing,
    severity,
    labelled,
    expired,
    delay,
    ...Object.values(rates),
  ];

  const observe: BatchObservableCallback = (result) => {
    for (const report of figures.drift()) {
      const model = { model: report.modelName, version: report.modelVersion };
      result.observe(scorePsi, report.scorePsi, model);
      result.observe(severity, SEVERITY_LEVEL[report.severity], model);
      for (const feature of report.features) {
        result.observe(featurePsi, feature.psi, { ...model, feature: feature.feature });
        result.observe(missing, feature.missingShare, { ...model, feature: feature.feature });
      }
    }
    for (const tally of figures.groundTruth()) {
      const report = tally.report();
      const model = { model: tally.modelName, version: tally.modelVersion, variant: tally.variant };
      result.observe(labelled, report.true_positives, { ...model, outcome: 'true_positive' });
      result.observe(labelled, report.false_positives, { ...model, outcome: 'false_positive' });
      result.observe(labelled, report.true_negatives, { ...model, outcome: 'true_negative' });
      result.observe(labelled, report.false_negatives, { ...model, outcome: 'false_negative' });
      result.observe(expired, report.expired, model);
      for (const [name, gauge] of Object.entries(rates)) {
        const value = report[name as keyof typeof rates];
        if (value !== null) result.observe(gauge, value, model);
      }
      if (report.label_delay_p50_ms !== null)
        result.observe(delay, report.label_delay_p50_ms / 1000, { ...model, quantile: '0.5' });
      if (report.label_delay_p99_ms !== null)
        result.observe(delay, report.label_delay_p99_ms / 1000, { ...model, quantile: '0.99' });
    }
  };
  meter.addBatchObservableCallback(observe, observables);
  return () => meter.removeBatchObservableCallback(observe, observables);
}
