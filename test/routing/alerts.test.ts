import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { packagePath } from '../../src/config/index.js';
import { readManifest } from '../../src/models/index.js';
import { clearReasons, createReasonCodes, linearReasons } from '../../src/monitoring/reasons.js';
import { type AlertSource, createAlertEncoder } from '../../src/routing/index.js';

// Read straight from the schema file with avsc, not through the codec the encoder writes with.
const alertType = avro.Type.forSchema(JSON.parse(readFileSync(packagePath('schemas/alert.avsc'), 'utf8')));
const decode = (bytes: Buffer) => ({ ...(alertType.fromBuffer(bytes) as Record<string, unknown>) });

const manifest = await readManifest(packagePath('models/fraud-gbm/1'));
const width = manifest.features.length;
// Two rows of eight features; 0.1 is not exact in float32, so the value read back shows it is the row's.
const features = Float32Array.from([...[4.5, 1, 1, 0, 1, 0, 0, 3], ...[9.25, 0, 1, 1, 0.1, 1, 0, 22]]);
const source: AlertSource = {
  manifest,
  variant: 'primary',
  alertThreshold: 0.05,
  scoredTime: 1_700_000_000_500,
  features,
  // Dyadic, so exact in float32 and in the expectations.
  scores: Float32Array.from([0.875, 0.0625]),
};
const coefficients = [0.5, 0.25, 1, 2, 4, 0, -1, 0.125];

describe('alert records', () => {
  it('decode against schemas/alert.avsc into the prediction, the threshold and the reasons', () => {
    const encoder = createAlertEncoder();
    const reasons = createReasonCodes(3);
    linearReasons({ method: 'linear', coefficients, intercept: -4 }, features, width, 1, 3, reasons);
    const alert = decode(
      encoder.encodeAlert(source, 1, { event_id: 'event-7', event_time: 1_700_000_000_000 }, reasons),
    );
    expect(alert).toEqual({
      event_id: 'event-7',
      model_name: 'fraud-gbm',
      model_version: '1',
      variant: 'primary',
      score: 0.0625,
      threshold: 0.05,
      // The prediction's label, decided against the manifest's threshold (0.11), not the alert's.
      label: 'legit',
      event_time: 1_700_000_000_000,
      scored_time: 1_700_000_000_500,
      method: 'LINEAR',
      reasons: [
        { feature: 'log_amount', value: 9.25, contribution: 4.625 },
        { feature: 'hour_utc', value: 22, contribution: 2.75 },
        { feature: 'is_cross_border', value: 1, contribution: 2 },
      ],
    });
  });

  it('writes every alert whole, whatever the one before it held', () => {
    const encoder = createAlertEncoder();
    const reasons = createReasonCodes(3);
    linearReasons({ method: 'linear', coefficients, intercept: -4 }, features, width, 0, 3, reasons);
    const first = encoder.encodeAlert(source, 0, { event_id: 'event-1', event_time: 1 }, reasons);
    const reasonsOfFirst = decode(first).reasons;

    // Fewer reasons, another method, and a value float32 had to round.
    const occlusion = createReasonCodes(1);
    occlusion.method = 'OCCLUSION';
    occlusion.count = 1;
    occlusion.features[0] = manifest.features.findIndex((feature) => feature.name === 'high_risk_mcc');
    occlusion.contributions[0] = 0.03125;
    const second = decode(encoder.encodeAlert(source, 1, { event_id: 'event-2', event_time: 2 }, occlusion));
    expect(second).toMatchObject({ event_id: 'event-2', method: 'OCCLUSION', score: 0.0625 });
    expect(second.reasons).toEqual([
      { feature: 'high_risk_mcc', value: Math.fround(0.1), contribution: 0.03125 },
    ]);

    clearReasons(reasons);
    const third = decode(encoder.encodeAlert(source, 0, { event_id: 'event-3', event_time: 3 }, reasons));
    expect(third).toMatchObject({ event_id: 'event-3', label: 'fraud', score: 0.875, method: 'NONE' });
    expect(third.reasons).toEqual([]);

    // The first alert's bytes are its own: what came after did not change them.
    expect(decode(first).reasons).toEqual(reasonsOfFirst);
    expect(reasonsOfFirst).toEqual([
      { feature: 'high_risk_mcc', value: 1, contribution: 4 },
      { feature: 'log_amount', value: 4.5, contribution: 2.25 },
      { feature: 'is_card_not_present', value: 1, contribution: 1 },
    ]);
  });
});
