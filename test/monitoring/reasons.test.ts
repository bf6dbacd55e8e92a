import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAvroSchema } from '../../src/codec/index.js';
import { packagePath } from '../../src/config/index.js';
import { compileFeatureExtractor } from '../../src/features/index.js';
import { createScoringSession } from '../../src/inference/index.js';
import { readModelArtifact } from '../../src/models/index.js';
import {
  clearReasons,
  createReasonCodes,
  type LinearExplanation,
  linearReasons,
  occlusionReasons,
  planOcclusion,
  type ReasonCodes,
} from '../../src/monitoring/reasons.js';
import { readGolden } from '../support/golden.js';

const reasonsOf = (out: ReasonCodes) =>
  Array.from({ length: out.count }, (_, index) => [out.features[index], out.contributions[index]]);

describe('linear reasons', () => {
  // Values exact in float32 that make coefficient × value inexact in float32 but exact in float64.
  const rows = Float32Array.from([...[1, 0.1, 3, -2, 0.5], ...[2, 4, 0, 1, 1]]);
  const explanation: LinearExplanation = {
    method: 'linear',
    coefficients: [0.3, 2.5, -1.25, 0.7, 0.4],
    intercept: -3,
  };

  it('ranks the row’s features by coefficient × value, computed in float64 on the float32 values', () => {
    const out = createReasonCodes(5);
    linearReasons(explanation, rows, 5, 0, 5, out);
    expect(out.method).toBe('LINEAR');
    const value = (feature: number) => rows[feature]!;
    const contribution = (feature: number) => explanation.coefficients[feature]! * value(feature);
    // 0.1 as float32 times 2.5 in float64: not what float32 arithmetic or the decimal 0.25 would give.
    expect(contribution(1)).not.toBe(Math.fround(contribution(1)));
    expect(contribution(1)).not.toBe(0.25);
    expect(reasonsOf(out)).toEqual([
      [0, contribution(0)],
      [1, contribution(1)],
      [4, contribution(4)],
      [3, contribution(3)],
      [2, contribution(2)],
    ]);
  });

  it('keeps the top k, largest first, ties to the smaller feature index', () => {
    const out = createReasonCodes(3);
    // Row 1: contributions 0.6, 10, 0, 0.7, 0.4 → features 1, 3, 0.
    linearReasons(explanation, rows, 5, 1, 3, out);
    expect(out.count).toBe(3);
    expect([...out.features.subarray(0, 3)]).toEqual([1, 3, 0]);
    const tied: LinearExplanation = { method: 'linear', coefficients: [1, 2, 1, 2], intercept: 0 };
    linearReasons(tied, Float32Array.from([3, 1, 3, 1]), 4, 0, 3, out);
    expect(reasonsOf(out)).toEqual([
      [0, 3],
      [2, 3],
      [1, 2],
    ]);
    linearReasons(tied, Float32Array.from([3, 1, 3, 1]), 4, 0, 1, out);
    expect(reasonsOf(out)).toEqual([[0, 3]]);
  });

  it('subtracts the center when the explanation has one, and refuses more reasons than it has room for', () => {
    const centered: LinearExplanation = { ...explanation, center: [1, 0, 3, 0, 0.25] };
    const out = createReasonCodes(2);
    linearReasons(centered, rows, 5, 0, 2, out);
    // Row 0 centered: 0, 2.5 × 0.1f, 0, 0.7 × −2, 0.4 × 0.25.
    expect(reasonsOf(out)).toEqual([
      [1, 2.5 * Math.fround(0.1)],
      [4, 0.4 * 0.25],
    ]);
    expect(() => linearReasons(centered, rows, 5, 0, 3, out)).toThrow(RangeError);
    clearReasons(out);
    expect(out).toMatchObject({ method: 'NONE', count: 0 });
  });

  it('ranks a NaN contribution below every number', () => {
    const out = createReasonCodes(3);
    const ones: LinearExplanation = { method: 'linear', coefficients: [1, 1, 1], intercept: 0 };
    linearReasons(ones, Float64Array.from([Number.NaN, -5, 2]), 3, 0, 3, out);
    expect(reasonsOf(out)).toEqual([
      [2, 2],
      [1, -5],
      [0, Number.NaN],
    ]);
  });
});

/**
 * The coefficients and intercept of the positive class in a LinearClassifier node of an ONNX model, read
 * with the few protobuf rules the file needs (ModelProto.graph = 7, GraphProto.node = 1, NodeProto.op_type
 * = 4 and attribute = 5, AttributeProto.name = 1 and floats = 7, packed or not).
 */
function linearClassifierOf(onnx: Uint8Array): LinearExplanation {
  type Field = { number: number; bytes?: Uint8Array; float?: number };
  const view = new DataView(onnx.buffer, onnx.byteOffset, onnx.byteLength);
  function fieldsOf(start: number, end: number): Field[] {
    const fields: Field[] = [];
    let at = start;
    const varint = () => {
      let value = 0;
      let scale = 1;
      let byte: number;
      do {
        byte = onnx[at++]!;
        value += (byte & 0x7f) * scale;
        scale *= 128;
      } while (byte & 0x80);
      return value;
    };
    while (at < end) {
      const key = varint();
      const number = Math.floor(key / 8);
      switch (key % 8) {
        case 0:
          varint();
          fields.push({ number });
          break;
        case 1:
          at += 8;
          fields.push({ number });
          break;
        case 2: {
          const length = varint();
          fields.push({ number, bytes: onnx.subarray(at, at + length) });
          at += length;
          break;
        }
        case 5:
          fields.push({ number, float: view.getFloat32(at, true) });
          at += 4;
          break;
        default:
          throw new Error(`wire type ${key % 8} in the ONNX file`);
      }
    }
    return fields;
  }
  const inside = (bytes: Uint8Array) =>
    fieldsOf(bytes.byteOffset - onnx.byteOffset, bytes.byteOffset - onnx.byteOffset + bytes.length);
  const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
  const floats = (attribute: Field[]) =>
    attribute.flatMap((field) => {
      if (field.number !== 7) return [];
      if (field.float !== undefined) return [field.float];
      const packed = field.bytes!;
      return Array.from({ length: packed.length / 4 }, (_, index) =>
        new DataView(packed.buffer, packed.byteOffset).getFloat32(index * 4, true),
      );
    });

  const graph = inside(fieldsOf(0, onnx.length).find((field) => field.number === 7)!.bytes!);
  const node = graph
    .filter((field) => field.number === 1)
    .map((field) => inside(field.bytes!))
    .find((fields) =>
      fields.some((field) => field.number === 4 && text(field.bytes) === 'LinearClassifier'),
    )!;
  const attributes = new Map(
    node
      .filter((field) => field.number === 5)
      .map((field) => inside(field.bytes!))
      .map((attribute) => [text(attribute.find((field) => field.number === 1)!.bytes), floats(attribute)]),
  );
  const coefficients = attributes.get('coefficients')!;
  const intercepts = attributes.get('intercepts')!;
  // One row of coefficients per class; the second is the positive class the service scores.
  const width = coefficients.length / intercepts.length;
  return {
    method: 'linear',
    coefficients: coefficients.slice(width),
    intercept: intercepts[1]!,
  };
}

describe('linear reasons of the logistic-regression fixture', () => {
  const directory = 'test/fixtures/models/fraud-logreg/1';
  const fromGraph = linearClassifierOf(readFileSync(packagePath(`${directory}/model.onnx`)));

  it('reads the coefficients scikit-learn fitted from the ONNX graph', () => {
    const manifest = JSON.parse(readFileSync(packagePath(`${directory}/manifest.json`), 'utf8')) as {
      training: { fitted: { coef: number[]; intercept: number } };
    };
    // The manifest's training record keeps them to 6 decimals.
    const { fitted } = manifest.training;
    expect(fromGraph.coefficients).toHaveLength(fitted.coef.length);
    fromGraph.coefficients.forEach((coefficient, feature) => {
      expect(coefficient).toBeCloseTo(fitted.coef[feature]!, 5);
    });
    expect(fromGraph.intercept).toBeCloseTo(fitted.intercept, 5);
  });

  it('adds up, with the intercept, to the logit of the score the model gives every golden row', async () => {
    const artifact = await readModelArtifact(packagePath(directory));
    const explanation =
      artifact.manifest.explanation?.method === 'linear' ? artifact.manifest.explanation : fromGraph;
    const session = await createScoringSession(artifact, { intraOpThreads: 1 });
    const golden = readGolden(directory);
    const width = artifact.manifest.features.length;
    const rows = Float32Array.from(golden.flatMap((row) => row.features));
    const scores = await session.score(rows, golden.length);
    await session.release();

    const out = createReasonCodes(width);
    let worst = 0;
    for (let row = 0; row < golden.length; row++) {
      linearReasons(explanation, rows, width, row, width, out);
      expect(out.count).toBe(width);
      let logit = explanation.intercept;
      for (let index = 0; index < width; index++) {
        const feature = out.features[index]!;
        expect(out.contributions[index]).toBe(
          explanation.coefficients[feature]! * rows[row * width + feature]!,
        );
        logit += out.contributions[index]!;
      }
      const score = scores[row]!;
      worst = Math.max(worst, Math.abs(Math.log(score / (1 - score)) - logit));
    }
    expect(worst).toBeLessThan(1e-4);
  });
});

describe('occlusion reasons of the gradient-boosting sample model', async () => {
  const directory = 'models/fraud-gbm/1';
  const artifact = await readModelArtifact(packagePath(directory));
  const { manifest } = artifact;
  const width = manifest.features.length;
  const session = await createScoringSession(artifact, { intraOpThreads: 1 });
  afterAll(() => session.release());
  const featureIndex = (name: string) => manifest.features.findIndex((feature) => feature.name === name);

  // The training medians when the manifest has a baseline, else those of the golden rows.
  const golden = readGolden(directory);
  const medians =
    manifest.baseline?.features.map((feature) => feature.median) ??
    manifest.features.map((_, feature) => {
      const sorted = golden.map((row) => row.features[feature]!).sort((a, b) => a - b);
      const middle = sorted.length / 2;
      return sorted.length % 2 === 1
        ? sorted[Math.floor(middle)]!
        : (sorted[middle - 1]! + sorted[middle]!) / 2;
    });

  it('builds, per alerted row, the row with each feature not at its median set to it, as the model’s float32', () => {
    const rows = Float32Array.from(golden.slice(0, 5).flatMap((row) => row.features));
    const alerted = Uint32Array.from([3, 1]);
    // A median between two float32 values (the baseline's are values rows held, already float32).
    const offGrid = medians.map((median, feature) => (feature === 0 ? 4.0587 : median));
    const plan = planOcclusion(rows, width, alerted, 2, offGrid);
    expect(plan.rows).toBeInstanceOf(Float32Array);
    let expectedCount = 0;
    for (let a = 0; a < 2; a++) {
      const source = [...rows.subarray(alerted[a]! * width, (alerted[a]! + 1) * width)];
      const occludedFeatures = [...plan.feature.subarray(plan.first[a]!, plan.first[a + 1]!)];
      // Exactly the features whose value differs from the median (rounded as the row holds it), in order.
      expect(occludedFeatures).toEqual(
        source.flatMap((value, feature) => (value === Math.fround(offGrid[feature]!) ? [] : [feature])),
      );
      for (const [position, feature] of occludedFeatures.entries()) {
        const expected = [...source];
        expected[feature] = Math.fround(offGrid[feature]!);
        const start = (plan.first[a]! + position) * width;
        expect([...plan.rows.subarray(start, start + width)]).toEqual(expected);
      }
      expectedCount += occludedFeatures.length;
    }
    expect(plan.count).toBe(expectedCount);
    expect(plan.rows).toHaveLength(expectedCount * width);
    // log_amount is never at the off-grid median: always occluded, and held rounded as a feature is.
    expect(Math.fround(offGrid[0]!)).not.toBe(offGrid[0]);
    expect(plan.feature[plan.first[0]!]).toBe(0);

    // float64 rows get float64 occluded rows, the median unrounded.
    const wide = planOcclusion(Float64Array.from(rows), width, alerted, 1, offGrid);
    expect(wide.rows).toBeInstanceOf(Float64Array);
    expect(wide.rows[0]).toBe(offGrid[0]);
  });

  it('gives a feature already at its median a contribution of exactly 0 without scoring it', () => {
    const row = Float32Array.from(medians);
    const plan = planOcclusion(row, width, [0], 1, medians);
    expect(plan.count).toBe(0);
    const out = createReasonCodes(3);
    occlusionReasons(0.5, new Float32Array(0), plan, 0, width, 3, out);
    expect(out.method).toBe('OCCLUSION');
    expect([...out.contributions.subarray(0, out.count)]).toEqual([0, 0, 0]);
    // Ties keep the manifest's order.
    expect([...out.features.subarray(0, out.count)]).toEqual([0, 1, 2]);
  });

  /** The reasons of designed events, their occluded rows scored in one call as the service would. */
  async function explain(events: Record<string, unknown>[], k: number) {
    const extractor = compileFeatureExtractor(
      manifest.features,
      loadAvroSchema(packagePath('schemas/card-transaction.avsc')),
    );
    const rows = extractor.allocateRows(events.length);
    for (const [row, event] of events.entries()) extractor.extractInto(event, rows, row);
    const scores = await session.score(rows, events.length);
    const alerted = Uint32Array.from(events.keys());
    const plan = planOcclusion(rows, width, alerted, events.length, medians);
    const occludedScores = await session.score(plan.rows, plan.count);
    return events.map((_, a) => {
      const out = createReasonCodes(k);
      occlusionReasons(scores[a]!, occludedScores, plan, a, width, k, out);
      const occludedScoreOf = (feature: number) => {
        for (let position = plan.first[a]!; position < plan.first[a + 1]!; position++)
          if (plan.feature[position] === feature) return occludedScores[position]!;
        return scores[a]!;
      };
      return {
        rows: [...rows.subarray(a * width, (a + 1) * width)],
        score: scores[a]!,
        method: out.method,
        reasons: Array.from({ length: out.count }, (_, index) => ({
          feature: manifest.features[out.features[index]!]!.name,
          contribution: out.contributions[index]!,
          occludedScore: occludedScoreOf(out.features[index]!),
        })),
      };
    });
  }

  // At every feature's training median but the ones a test sets: a card-present purchase (no device),
  // domestic, at a grocer, geolocated, at 14:xx UTC, of the median amount (56.90).
  const typical = {
    event_id: 'designed',
    account_id: 'acct-1',
    card_number: '4111111111111111',
    card_country: 'FR',
    merchant_id: 'mch-1',
    merchant_category: '5411',
    amount_minor: 5_690,
    currency: 'EUR',
    country: 'FR',
    channel: 'POS',
    device_id: null,
    ip_address: null,
    latitude: 48.85,
    longitude: 2.35,
    event_time: Date.UTC(2025, 8, 10, 14, 20),
  };

  it('gives the whole change to the amount when only the amount is far above its median', async () => {
    const [typicalScore, large] = await explain([typical, { ...typical, amount_minor: 5_000_00 }], 3);
    const amount = featureIndex('log_amount');
    // The designed event is at the median of every feature but the amount.
    large!.rows.forEach((value, feature) => {
      if (feature === amount) expect(value).toBeGreaterThan(medians[amount]! + 3);
      else expect(value).toBe(medians[feature]);
    });
    // With this model a large amount alone barely moves a card-present purchase (0.0106 against 0.0081):
    // what the amount added is all of that move, and no other feature added anything.
    expect(typicalScore!.rows).toEqual(medians.map((median) => Math.fround(median)));
    expect(large!.method).toBe('OCCLUSION');
    const [top, ...others] = large!.reasons;
    expect(top!.feature).toBe('log_amount');
    expect(top!.occludedScore).toBe(typicalScore!.score);
    expect(top!.contribution).toBe(large!.score - typicalScore!.score);
    expect(top!.contribution).toBeGreaterThan(0);
    expect(others).toHaveLength(2);
    for (const reason of others) expect(reason.contribution).toBe(0);
  });

  it('names the merchant category when only it is risky, and both at a risky merchant for a large amount', async () => {
    const [riskyMerchant, both] = await explain(
      [
        { ...typical, merchant_category: '7995' },
        { ...typical, amount_minor: 5_000_00, merchant_category: '7995' },
      ],
      3,
    );
    const mcc = featureIndex('high_risk_mcc');
    expect(riskyMerchant!.rows[mcc]).not.toBe(medians[mcc]);
    expect(riskyMerchant!.reasons[0]!.feature).toBe('high_risk_mcc');
    expect(riskyMerchant!.reasons[0]!.contribution).toBeGreaterThan(riskyMerchant!.score / 2);
    for (const reason of riskyMerchant!.reasons.slice(1)) expect(reason.contribution).toBe(0);

    // Together they raise the score past twice the threshold, each adding most of it (the trees interact).
    expect(both!.score).toBeGreaterThan(manifest.threshold * 2);
    expect(['log_amount', 'high_risk_mcc']).toContain(both!.reasons[0]!.feature);
    expect(
      both!.reasons
        .slice(0, 2)
        .map((reason) => reason.feature)
        .sort(),
    ).toEqual(['high_risk_mcc', 'log_amount']);
    expect(both!.reasons[1]!.contribution).toBeGreaterThan(both!.score / 2);
    expect(both!.reasons[2]!.contribution).toBe(0);
  });
});
