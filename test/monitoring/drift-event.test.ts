import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { DriftWindow, driftMonitoringEvent, loadDriftEventEncoder } from '../../src/monitoring/index.js';

const monitoringEvent = avro.Type.forSchema(
  JSON.parse(readFileSync(new URL('../../schemas/monitoring-event.avsc', import.meta.url), 'utf8')),
);

/** A closed window over two features, one of them moved, with a few nulls. */
function closedWindowReport() {
  const window = new DriftWindow(
    {
      name: 'fraud-logreg',
      version: '3',
      baseline: {
        samples: 1_000,
        features: [
          { name: 'log_amount', edges: [2, 4], proportions: [0.3, 0.4, 0.3], median: 3, missing: 0.01 },
          { name: 'is_ecommerce', values: [0, 1], proportions: [0.7, 0.3], median: 0, missing: 0 },
        ],
        score: { edges: [0.1, 0.5], proportions: [0.8, 0.15, 0.05] },
      },
    },
    { windowEvents: 4, windowMs: 60_000, minSamples: 1 },
  );
  const rows = new Float32Array([1, 0, 5, 1, 6, 0, 7, 2]);
  const missing = new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]);
  window.add(rows, 2, 4, new Float32Array([0.01, 0.2, 0.6, 0.05]), missing, 1_700_000_000_000);
  return window.closeIfDue(1_700_000_030_000)!;
}

describe('drift monitoring event', () => {
  const report = closedWindowReport();
  const event = driftMonitoringEvent(report, 'streamscore-7f9c', 1_700_000_030_123);

  it('maps the report onto the DriftWindow record of a DRIFT event', () => {
    expect(event).toMatchObject({
      kind: 'DRIFT',
      model_name: 'fraud-logreg',
      model_version: '3',
      instance: 'streamscore-7f9c',
      emitted_time: 1_700_000_030_123,
      ground_truth: null,
      retrain: null,
      drift: {
        window_start: 1_700_000_000_000,
        window_end: 1_700_000_030_000,
        samples: 4,
        severity: report.severity,
        score_psi: report.scorePsi,
      },
    });
    const amount = event.drift.features[0]!;
    expect(amount).toMatchObject({
      feature: 'log_amount',
      psi: report.features[0]!.psi,
      severity: 'ALERT',
      missing_share: 0.25,
      training_missing_share: 0.01,
    });
    // Amounts 1, 5, 6, 7: shares 0.25, 0, 0.75 against 0.3, 0.4, 0.3.
    expect(amount.moved_bins).toEqual([
      { bin: '>= 4', expected_share: 0.3, actual_share: 0.75 },
      { bin: '[2, 4)', expected_share: 0.4, actual_share: 0 },
      { bin: '< 2', expected_share: 0.3, actual_share: 0.25 },
    ]);
    // Values 0, 1, 0, 2: "2" was never seen in training.
    expect(event.drift.features[1]!.moved_bins.map((moved) => moved.bin)).toEqual(['unseen', '= 0', '= 1']);
  });

  it('is a valid MonitoringEvent that decodes back to itself', () => {
    const errors: string[] = [];
    const valid = monitoringEvent.isValid(event, { errorHook: (path) => errors.push(path.join('.')) });
    expect(errors).toEqual([]);
    expect(valid).toBe(true);
    const encoded = loadDriftEventEncoder().encode(event);
    expect(monitoringEvent.fromBuffer(encoded)).toEqual(event);
  });
});
