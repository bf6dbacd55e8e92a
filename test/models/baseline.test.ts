/**
 * The training baselines and explanations the training scripts write into the manifests (models/train.py,
 * MANIFEST-FORMAT.md "Baseline" and "Explanation"). The baseline was counted over the test split; the golden
 * rows are drawn from it, but a third of them are frauds (3% of the split) and a sixth its highest-scoring
 * negatives, so each row is weighted by the test rows it stands for (training.golden.selection) before its
 * features and score are binned with the service's rule and compared with the baseline.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { packagePath } from '../../src/config/index.js';
import { type BaselineBins, type ModelManifest, manifestSchema } from '../../src/models/index.js';
import { type GoldenRow, readGolden } from '../support/golden.js';

const SAMPLE_MODELS = ['models/fraud-gbm/1', 'models/fraud-mlp/1', 'models/fraud-forest/1'];
const LINEAR_MODELS = [
  'test/fixtures/models/fraud-logreg/1',
  'test/fixtures/models/fraud-logreg-zipmap/1',
  'test/fixtures/models/fraud-logreg-dynamic-width/1',
];
const OTHER_FIXTURES = [
  'test/fixtures/models/fraud-gbm-v2/2',
  'test/fixtures/models/fraud-gbm-dynamic-width/1',
  'test/fixtures/models/fraud-mlp-dynamic-width/1',
  'test/fixtures/models/fraud-hgb/1',
  'test/fixtures/models/fraud-hgb-float32/1',
];
const ALL_MODELS = [...SAMPLE_MODELS, ...LINEAR_MODELS, ...OTHER_FIXTURES];

/** The test split of train.py's 50,000 events: the rows every baseline here was counted over. */
const BASELINE_ROWS = 10_000;
/**
 * The weighted golden rows count as about 160 rows (the 150 random negatives weigh 64.5 each), so their
 * PSI against the baseline is about (bins − 1) / 160 from sampling alone: 0.056 for 10 bins, 0.089 at
 * worst here. Misaligned bins (each proportion moved to the next bin) give at least 0.198 on every feature
 * binned by value and on hour_utc. log_amount's and the score's deciles hold a tenth of the rows each, so a
 * shift there changes nothing a sample could see.
 */
const PSI_TOLERANCE = 0.15;
const EMPTY_BIN_SHARE = 1e-4;

const selectionSchema = z.object({
  golden: z.object({
    selection: z.object({ groups: z.string().min(1), weights: z.record(z.string(), z.number().min(0)) }),
  }),
});

interface Model {
  manifest: ModelManifest;
  golden: GoldenRow[];
  /** Per golden row, the test rows it stands for. */
  weights: number[];
}

function readModel(directory: string): Model {
  const raw: unknown = JSON.parse(readFileSync(packagePath(`${directory}/manifest.json`), 'utf8'));
  const manifest = manifestSchema.parse(raw);
  const golden = readGolden(directory);
  const { groups, weights } = selectionSchema.parse(manifest.training).golden.selection;
  if (groups.length !== golden.length) {
    throw new Error(`${directory}: ${groups.length} golden groups for ${golden.length} golden rows`);
  }
  return { manifest, golden, weights: [...groups].map((group) => weights[group]!) };
}

/** The service's rule: bin i holds edges[i−1] ≤ x < edges[i]; by value, the equal one (−1 for none). */
function binOf(bins: BaselineBins, value: number): number {
  if (bins.values !== undefined) return bins.values.indexOf(value);
  const edges = bins.edges!;
  let bin = 0;
  while (bin < edges.length && edges[bin]! <= value) bin++;
  return bin;
}

function weightedShares(bins: BaselineBins, values: readonly number[], weights: readonly number[]): number[] {
  const shares = bins.proportions.map(() => 0);
  let total = 0;
  values.forEach((value, row) => {
    const bin = binOf(bins, value);
    if (bin < 0) throw new Error(`${value} is none of the values ${bins.values}`);
    shares[bin]! += weights[row]!;
    total += weights[row]!;
  });
  return shares.map((share) => share / total);
}

function psi(expected: readonly number[], actual: readonly number[]): number {
  return expected.reduce((sum, expectedShare, bin) => {
    const e = Math.max(expectedShare, EMPTY_BIN_SHARE);
    const a = Math.max(actual[bin]!, EMPTY_BIN_SHARE);
    return sum + (a - e) * Math.log(a / e);
  }, 0);
}

/** Each baseline column with the golden rows' values as served: float32 features for a float32 input. */
function columns({ manifest, golden }: Model): { name: string; bins: BaselineBins; values: number[] }[] {
  const asServed = manifest.inputs[0]!.type === 'float32' ? Math.fround : (value: number) => value;
  const baseline = manifest.baseline!;
  return [
    ...baseline.features.map((bins, column) => ({
      name: bins.name,
      bins,
      values: golden.map((row) => asServed(row.features[column]!)),
    })),
    { name: 'score', bins: baseline.score, values: golden.map((row) => Math.fround(row.score)) },
  ];
}

describe.each(ALL_MODELS)('the baseline of %s', (directory) => {
  const model = readModel(directory);
  const { manifest } = model;
  const baseline = manifest.baseline!;

  it('has one entry per feature, in order, over the test split, with proportions summing to 1', () => {
    expect(baseline).toBeDefined();
    expect(baseline.samples).toBe(BASELINE_ROWS);
    expect(baseline.features.map((bins) => bins.name)).toEqual(manifest.features.map((f) => f.name));
    for (const bins of [...baseline.features, baseline.score]) {
      expect(bins.proportions.length).toBeGreaterThanOrEqual(2);
      expect(bins.proportions.reduce((sum, share) => sum + share, 0)).toBeCloseTo(1, 9);
    }
  });

  it('is filled as the weighted golden rows fill it, bin for bin, for every feature and the score', () => {
    const drift = columns(model).map(({ name, bins, values }) => ({
      name,
      psi: psi(bins.proportions, weightedShares(bins, values, model.weights)),
    }));
    expect(drift.filter((column) => !(column.psi < PSI_TOLERANCE))).toEqual([]);
  });

  it('would not be, with its proportions one bin off, for the features binned by value and hour_utc', () => {
    const checked = columns(model).filter(
      ({ bins, name }) => bins.values !== undefined || name === 'hour_utc',
    );
    expect(checked).toHaveLength(7);
    for (const { name, bins, values } of checked) {
      const shifted = [bins.proportions.at(-1)!, ...bins.proportions.slice(0, -1)];
      expect(psi(shifted, weightedShares(bins, values, model.weights)), name).toBeGreaterThan(PSI_TOLERANCE);
    }
  });

  it('gives each feature a median the rows hold, in the bin where half the rows are passed', () => {
    for (const bins of baseline.features) {
      const bin = binOf(bins, bins.median);
      const below = bins.proportions.slice(0, bin).reduce((sum, share) => sum + share, 0);
      expect(below, bins.name).toBeLessThanOrEqual(0.5);
      expect(below + bins.proportions[bin]!, bins.name).toBeGreaterThanOrEqual(0.5);
    }
  });

  it('counts a null field as missing: for an is_null feature, its share of 1s', () => {
    const nullChecks = manifest.features.filter((feature) => feature.transforms[0]?.op === 'is_null');
    expect(nullChecks.map((feature) => feature.name)).toEqual(['device_unknown', 'geo_unknown']);
    for (const feature of nullChecks) {
      const bins = baseline.features.find((entry) => entry.name === feature.name)!;
      expect(bins.missing).toBeGreaterThan(0);
      expect(bins.missing).toBe(bins.proportions[bins.values!.indexOf(1)]);
    }
  });
});

describe('explanations', () => {
  it.each(LINEAR_MODELS)(
    '%s: the linear coefficients and intercept give back the golden scores',
    (directory) => {
      const { manifest, golden } = readModel(directory);
      const explanation = manifest.explanation;
      if (explanation?.method !== 'linear') throw new Error(`${directory}: no linear explanation`);
      expect(explanation.coefficients).toHaveLength(manifest.features.length);
      expect(explanation.center).toBeUndefined();
      const worst = Math.max(
        ...golden.map((row) => {
          const logit = row.features.reduce(
            (sum, value, column) => sum + explanation.coefficients[column]! * Math.fround(value),
            explanation.intercept,
          );
          return Math.abs(1 / (1 + Math.exp(-logit)) - row.score);
        }),
      );
      expect(worst).toBeLessThan(1e-5);
    },
  );

  it.each([...SAMPLE_MODELS, ...OTHER_FIXTURES])('%s: occlusion', (directory) => {
    expect(readModel(directory).manifest.explanation).toEqual({ method: 'occlusion' });
  });
});
