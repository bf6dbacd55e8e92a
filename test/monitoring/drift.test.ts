import { describe, expect, it } from 'vitest';
import type { BaselineBins, ModelBaseline, ModelManifest } from '../../src/models/index.js';
import {
  createDriftWindow,
  type DriftOptions,
  type DriftReport,
  DriftWindow,
  type MonitoredModel,
} from '../../src/monitoring/index.js';
import { type Random, seededRandom } from '../../src/sample/random.js';

/** Shaped like the sample fraud models' features (log amount, channel flags, null indicators, hour). */
const BASELINE: ModelBaseline = {
  samples: 500_000,
  features: [
    {
      name: 'log_amount',
      edges: [1, 2, 3, 3.5, 4, 4.5, 5, 6, 7],
      proportions: [0.04, 0.08, 0.16, 0.14, 0.16, 0.14, 0.12, 0.1, 0.05, 0.01],
      median: 3.9,
      missing: 0.01,
    },
    { name: 'is_ecommerce', values: [0, 1], proportions: [0.7, 0.3], median: 0, missing: 0 },
    { name: 'is_card_not_present', values: [0, 1], proportions: [0.65, 0.35], median: 0, missing: 0 },
    { name: 'is_cross_border', values: [0, 1], proportions: [0.9, 0.1], median: 0, missing: 0.002 },
    { name: 'high_risk_mcc', values: [0, 1], proportions: [0.97, 0.03], median: 0, missing: 0.05 },
    { name: 'device_unknown', values: [0, 1], proportions: [0.6, 0.4], median: 0, missing: 0.4 },
    { name: 'geo_unknown', values: [0, 1], proportions: [0.8, 0.2], median: 0, missing: 0.2 },
    {
      name: 'hour_utc',
      edges: [3, 6, 9, 12, 15, 18, 21],
      proportions: [0.04, 0.06, 0.14, 0.17, 0.18, 0.17, 0.14, 0.1],
      median: 13,
      missing: 0,
    },
  ],
  score: {
    edges: [0.01, 0.02, 0.05, 0.1, 0.2, 0.5],
    proportions: [0.55, 0.2, 0.12, 0.06, 0.04, 0.02, 0.01],
  },
};
const WIDTH = BASELINE.features.length;
const MODEL: MonitoredModel = { name: 'fraud-gbm', version: '1', baseline: BASELINE };
const OPTIONS: DriftOptions = { windowEvents: 10_000, windowMs: 60_000, minSamples: 1_000 };

/**
 * Draws like training did: a bin by its proportion, then a value inside it (uniform across an interior
 * bin, within one neighbouring bin's width beyond the first and last edges; the value itself for values).
 */
function sampleValue(random: Random, bins: BaselineBins): number {
  const proportions = bins.proportions;
  let bin = 0;
  let cumulative = proportions[0]!;
  const draw = random.next();
  while (draw >= cumulative && bin < proportions.length - 1) {
    bin += 1;
    cumulative += proportions[bin]!;
  }
  if (bins.values) return bins.values[bin]!;
  const edges = bins.edges!;
  const span = edges.length > 1 ? edges[1]! - edges[0]! : 1;
  const low = bin === 0 ? edges[0]! - span : edges[bin - 1]!;
  const high = bin === edges.length ? edges[edges.length - 1]! + span : edges[bin]!;
  return low + random.next() * (high - low);
}

interface Batch {
  rows: Float32Array;
  scores: Float32Array;
  missing: Uint8Array;
}

function allocateBatch(size: number): Batch {
  return {
    rows: new Float32Array(size * WIDTH),
    scores: new Float32Array(size),
    missing: new Uint8Array(size * WIDTH),
  };
}

/** Fills `count` rows from the baseline, each feature's field null at its training share. */
function fillFromBaseline(random: Random, batch: Batch, count: number): void {
  for (let row = 0; row < count; row++) {
    BASELINE.features.forEach((feature, column) => {
      batch.rows[row * WIDTH + column] = sampleValue(random, feature);
      batch.missing[row * WIDTH + column] = random.chance(feature.missing) ? 1 : 0;
    });
    batch.scores[row] = sampleValue(random, BASELINE.score);
  }
}

/** Feeds `events` baseline events in batches of `batchSize` at `now`, collecting the windows that close. */
function feed(
  window: DriftWindow,
  random: Random,
  events: number,
  batchSize: number,
  now = 0,
  change: (batch: Batch, count: number) => void = () => {},
): DriftReport[] {
  const batch = allocateBatch(batchSize);
  const reports: DriftReport[] = [];
  for (let fed = 0; fed < events; fed += batchSize) {
    const count = Math.min(batchSize, events - fed);
    fillFromBaseline(random, batch, count);
    change(batch, count);
    window.add(batch.rows, WIDTH, count, batch.scores, batch.missing, now);
    const report = window.closeIfDue(now);
    if (report) reports.push(report);
  }
  return reports;
}

const featureOf = (report: DriftReport, name: string) => report.features.find((f) => f.feature === name)!;
const largestMove = (feature: DriftReport['features'][number]) =>
  Math.max(0, ...feature.movedBins.map((bin) => Math.abs(bin.actualShare - bin.expectedShare)));

describe('drift window over events drawn from the training baseline', () => {
  it('never reaches WARN over 200,000 events in windows of 10,000', () => {
    const reports = feed(new DriftWindow(MODEL, OPTIONS), seededRandom(12), 200_000, 500);
    expect(reports).toHaveLength(20);
    for (const report of reports) {
      expect(report.samples).toBe(10_000);
      expect(report.severity).toBe('OK');
      expect(report.scorePsi).toBeLessThan(0.1);
      for (const feature of report.features) {
        expect(feature.severity).toBe('OK');
        expect(feature.psi).toBeLessThan(0.1);
        // The draw is faithful: nulls at their training share, to within sampling noise.
        expect(Math.abs(feature.missingShare - feature.trainingMissingShare)).toBeLessThan(0.02);
      }
    }
  });

  it('reports the model version, the features in manifest order and at most 3 moved bins each', () => {
    const [report] = feed(new DriftWindow(MODEL, OPTIONS), seededRandom(3), 10_000, 1_000, 1_700_000_000_000);
    expect(report).toMatchObject({ modelName: 'fraud-gbm', modelVersion: '1', samples: 10_000 });
    expect(report!.windowStart).toBe(1_700_000_000_000);
    expect(report!.windowEnd).toBe(1_700_000_000_000);
    expect(report!.features.map((feature) => feature.feature)).toEqual(BASELINE.features.map((f) => f.name));
    for (const feature of report!.features) {
      expect(feature.movedBins.length).toBeGreaterThan(0);
      expect(feature.movedBins.length).toBeLessThanOrEqual(3);
      const moves = feature.movedBins.map((bin) => Math.abs(bin.actualShare - bin.expectedShare));
      expect(moves).toEqual([...moves].sort((a, b) => b - a));
    }
  });
});

describe('drift window over changed events', () => {
  it('is ALERT on a feature whose units changed (amounts ×100), which moved most, the others OK', () => {
    const toCents = (batch: Batch, count: number) => {
      for (let row = 0; row < count; row++) {
        const index = row * WIDTH;
        batch.rows[index] = Math.log1p(Math.expm1(batch.rows[index]!) * 100);
      }
    };
    const [report] = feed(new DriftWindow(MODEL, OPTIONS), seededRandom(5), 10_000, 500, 0, toCents);
    expect(report!.severity).toBe('ALERT');
    const amount = featureOf(report!, 'log_amount');
    expect(amount.severity).toBe('ALERT');
    expect(amount.psi).toBeGreaterThan(1);
    // log1p(100 · expm1(x)) ≥ 7 for x above about 2.4: most amounts now fall in the top bin.
    expect(amount.movedBins[0]!.label).toBe('>= 7');
    expect(amount.movedBins[0]!.actualShare).toBeGreaterThan(0.5);
    expect(amount.movedBins[0]!.expectedShare).toBe(0.01);
    for (const feature of report!.features) {
      if (feature === amount) continue;
      expect(feature.severity).toBe('OK');
      expect(largestMove(feature)).toBeLessThan(largestMove(amount));
    }
    expect(report!.scorePsi).toBeLessThan(0.1);
  });

  it('reports an ignored feature at its own severity without letting it raise the window', () => {
    const toCents = (batch: Batch, count: number) => {
      for (let row = 0; row < count; row++) {
        const index = row * WIDTH;
        batch.rows[index] = Math.log1p(Math.expm1(batch.rows[index]!) * 100);
      }
    };
    const ignoring = { ...OPTIONS, ignoreFeatures: ['log_amount'] };
    const [report] = feed(new DriftWindow(MODEL, ignoring), seededRandom(5), 10_000, 500, 0, toCents);
    expect(featureOf(report!, 'log_amount').severity).toBe('ALERT');
    expect(report!.severity).toBe('OK');
  });

  it('shows raised nulls in the missing share, against the training share', () => {
    // A third of the amounts null, the feature's default 0 served in their place.
    const nullAmounts = (batch: Batch, count: number) => {
      for (let row = 0; row < count; row += 3) {
        batch.rows[row * WIDTH] = 0;
        batch.missing[row * WIDTH] = 1;
      }
    };
    const [report] = feed(new DriftWindow(MODEL, OPTIONS), seededRandom(8), 10_000, 1_000, 0, nullAmounts);
    const amount = featureOf(report!, 'log_amount');
    expect(amount.missingShare).toBeGreaterThan(0.33);
    expect(amount.missingShare).toBeLessThan(0.35);
    expect(amount.trainingMissingShare).toBe(0.01);
    expect(amount.movedBins[0]!.label).toBe('< 1');
    expect(amount.severity).not.toBe('OK');
    expect(featureOf(report!, 'device_unknown').missingShare).toBeCloseTo(0.4, 1);
    expect(featureOf(report!, 'hour_utc').missingShare).toBe(0);
  });

  it('counts no nulls for a batch without missing flags', () => {
    const window = new DriftWindow(MODEL, { ...OPTIONS, windowEvents: 2, minSamples: 1 });
    window.add(new Float32Array(2 * WIDTH), WIDTH, 2, new Float32Array(2), undefined, 0);
    expect(window.closeIfDue(0)!.features.every((feature) => feature.missingShare === 0)).toBe(true);
  });
});

describe('PSI of a drift window', () => {
  const small: MonitoredModel = {
    name: 'tiny',
    version: '7',
    baseline: {
      samples: 100,
      features: [{ name: 'flag', values: [0, 1], proportions: [0.5, 0.5], median: 0, missing: 0 }],
      score: { edges: [0.5], proportions: [0.5, 0.5] },
    },
  };

  it('matches a computation by hand, an unseen value counted at the empty-bin share', () => {
    const window = new DriftWindow(small, { windowEvents: 5, windowMs: 1_000, minSamples: 1 });
    // Flags 0, 1, 1, 1 and 2 (never seen in training): shares 0.2, 0.6, 0.2 against 0.5, 0.5, 0.
    window.add(
      new Float64Array([0, 1, 1, 1, 2]),
      1,
      5,
      new Float32Array([0.1, 0.2, 0.3, 0.6, 0.9]),
      undefined,
      0,
    );
    const report = window.closeIfDue(0)!;
    const flag = report.features[0]!;
    const byHand =
      -0.3 * Math.log(0.2 / 0.5) + 0.1 * Math.log(0.6 / 0.5) + (0.2 - 1e-4) * Math.log(0.2 / 1e-4);
    expect(flag.psi).toBeCloseTo(byHand, 12);
    expect(flag.severity).toBe('ALERT');
    expect(flag.movedBins).toEqual([
      { label: '= 0', expectedShare: 0.5, actualShare: 0.2 },
      { label: 'unseen', expectedShare: 0, actualShare: 0.2 },
      { label: '= 1', expectedShare: 0.5, actualShare: 0.6 },
    ]);
    // Scores 3 below 0.5 and 2 above: 0.6, 0.4 against 0.5, 0.5.
    expect(report.scorePsi).toBeCloseTo(0.1 * Math.log(0.6 / 0.5) - 0.1 * Math.log(0.4 / 0.5), 12);
  });

  it('bands severity at psiWarn and psiAlert, the window taking the worst of features and score', () => {
    const byScore = (psiWarn: number, psiAlert: number) => {
      const window = new DriftWindow(small, {
        windowEvents: 10,
        windowMs: 1_000,
        minSamples: 1,
        psiWarn,
        psiAlert,
      });
      // Flags exactly at training shares; scores 6 of 10 below 0.5.
      const flags = new Float64Array([0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
      const scores = new Float32Array([0.1, 0.1, 0.2, 0.2, 0.3, 0.3, 0.7, 0.7, 0.9, 0.9]);
      window.add(flags, 1, 10, scores, undefined, 0);
      return window.closeIfDue(0)!;
    };
    const { scorePsi, severity, features } = byScore(0.1, 0.25);
    expect(scorePsi).toBeCloseTo(0.1 * Math.log(0.6 / 0.5) - 0.1 * Math.log(0.4 / 0.5), 12);
    expect(severity).toBe('OK');
    expect(features[0]).toMatchObject({ psi: 0, severity: 'OK', movedBins: [] });
    // A band starts at its threshold exactly.
    expect(byScore(scorePsi, 0.25).severity).toBe('WARN');
    expect(byScore(scorePsi * 1.001, 0.25).severity).toBe('OK');
    expect(byScore(0.01, scorePsi).severity).toBe('ALERT');
  });
});

describe('closing a drift window', () => {
  const row = new Float32Array(100 * WIDTH);
  const scores = new Float32Array(100);
  const addAt = (window: DriftWindow, count: number, now: number) =>
    window.add(row, WIDTH, count, scores, undefined, now);

  it('closes by count once it holds windowEvents, without splitting a batch', () => {
    const window = new DriftWindow(MODEL, { windowEvents: 250, windowMs: 60_000, minSamples: 10 });
    addAt(window, 100, 1_000);
    expect(window.closeIfDue(1_001)).toBeUndefined();
    addAt(window, 100, 1_002);
    expect(window.closeIfDue(1_003)).toBeUndefined();
    addAt(window, 100, 1_004);
    expect(window.closeIfDue(1_005)).toMatchObject({ samples: 300, windowStart: 1_000, windowEnd: 1_005 });
    expect(window.pending).toBe(0);
    expect(window.closeIfDue(1_006)).toBeUndefined();
  });

  it('closes by time windowMs after its first event', () => {
    const window = new DriftWindow(MODEL, { windowEvents: 10_000, windowMs: 60_000, minSamples: 100 });
    expect(window.closeIfDue(1e12)).toBeUndefined();
    addAt(window, 100, 5_000);
    addAt(window, 100, 30_000);
    expect(window.closeIfDue(64_999)).toBeUndefined();
    expect(window.closeIfDue(65_000)).toMatchObject({ samples: 200, windowStart: 5_000, windowEnd: 65_000 });
    // The next window opens at its own first event.
    addAt(window, 100, 200_000);
    expect(window.closeIfDue(259_999)).toBeUndefined();
    expect(window.closeIfDue(260_000)).toMatchObject({ samples: 100, windowStart: 200_000 });
  });

  it('keeps counting a window that is due by time with fewer than minSamples, closing it once it has them', () => {
    const window = new DriftWindow(MODEL, { windowEvents: 10_000, windowMs: 60_000, minSamples: 150 });
    addAt(window, 100, 0);
    expect(window.closeIfDue(120_000)).toBeUndefined();
    expect(window.pending).toBe(100);
    addAt(window, 50, 130_000);
    expect(window.closeIfDue(130_000)).toMatchObject({ samples: 150, windowStart: 0, windowEnd: 130_000 });
  });

  it('reset drops the open window unreported', () => {
    const window = new DriftWindow(MODEL, { windowEvents: 150, windowMs: 60_000, minSamples: 1 });
    addAt(window, 100, 0);
    window.reset();
    expect(window.pending).toBe(0);
    addAt(window, 100, 70_000);
    expect(window.closeIfDue(70_000)).toBeUndefined();
    expect(window.closeIfDue(130_000)).toMatchObject({ samples: 100, windowStart: 70_000 });
  });

  it('refuses rows of another width and inconsistent options', () => {
    const window = new DriftWindow(MODEL, OPTIONS);
    expect(() => window.add(row, WIDTH - 1, 1, scores, undefined, 0)).toThrow(RangeError);
    expect(() => new DriftWindow(MODEL, { ...OPTIONS, minSamples: 20_000 })).toThrow(/minSamples/);
    expect(() => new DriftWindow(MODEL, { ...OPTIONS, psiWarn: 0.3 })).toThrow(/psiWarn/);
    expect(() => new DriftWindow(MODEL, { ...OPTIONS, windowEvents: 0 })).toThrow(/windowEvents/);
  });
});

describe('createDriftWindow', () => {
  const manifest = { name: 'fraud-gbm', version: '1' } as ModelManifest;

  it('monitors a version whose manifest has a baseline, and not one without', () => {
    expect(createDriftWindow(manifest, OPTIONS)).toBeUndefined();
    const window = createDriftWindow({ ...manifest, baseline: BASELINE }, OPTIONS);
    expect(window?.featureNames).toEqual(BASELINE.features.map((feature) => feature.name));
  });
});
