import { describe, expect, it } from 'vitest';
import { packagePath } from '../../src/config/index.js';
import { type ModelManifest, readManifest } from '../../src/models/index.js';
import { type DriftReport, watchDrift } from '../../src/monitoring/index.js';
import { type ChampionScored, championScored } from '../../src/telemetry/index.js';
import { capturingLogger } from '../support/logs.js';

const gbm = await readManifest(packagePath('models/fraud-gbm/1'));
/** fraud-gbm with a default for its amount, so a null amount is served (as 0) and counted missing. */
const withAmountDefault: ModelManifest = {
  ...gbm,
  features: gbm.features.map((feature) =>
    feature.name === 'log_amount' ? { ...feature, default: 0 } : feature,
  ),
};
const WIDTH = gbm.features.length;
const column = (name: string) => gbm.features.findIndex((feature) => feature.name === name);

function scoredBatch(count: number): ChampionScored {
  const records: Record<string, unknown>[] = [];
  const rows = new Float32Array(count * WIDTH);
  for (let row = 0; row < count; row++) {
    // Every 4th amount null (its default served), every 5th location null (geo_unknown 1), and every
    // 2nd merchant category null: a feature without a default never scores a null, so that field is
    // the record's business, not the window's.
    records.push({
      amount_minor: row % 4 === 0 ? null : 1_000,
      latitude: row % 5 === 0 ? null : 1.5,
      merchant_category: row % 2 === 0 ? null : '5411',
    });
    if (row % 5 === 0) rows[row * WIDTH + column('geo_unknown')] = 1;
  }
  return {
    manifest: withAmountDefault,
    records,
    rows,
    count,
    scores: new Float32Array(count),
    failedRows: [],
    at: 0,
  };
}

describe('drift watch', () => {
  it("reads a null from an is_null feature's value, or from the field of a feature with a default", () => {
    const reports: DriftReport[] = [];
    const watch = watchDrift(
      { windowEvents: 100, windowMs: 60_000, minSamples: 1, onReport: (report) => reports.push(report) },
      capturingLogger().logger,
    );
    try {
      championScored.publish(scoredBatch(100));
    } finally {
      watch.close();
    }
    expect(reports).toHaveLength(1);
    const missing = Object.fromEntries(reports[0]!.features.map((f) => [f.feature, f.missingShare]));
    expect(missing.log_amount).toBe(0.25);
    expect(missing.geo_unknown).toBe(0.2);
    expect(missing.device_unknown).toBe(0);
    expect(missing.high_risk_mcc).toBe(0);
  });
});
