/**
 * The backtest's judging rules, with models whose scores are known (a score is a feature read back): an
 * event the baseline cannot decode is skipped under its code, one only the candidate cannot map counts as a
 * candidate ERROR (compared, not comparable, no label counted), and labels count per version at its own
 * threshold.
 */
import { describe, expect, it } from 'vitest';
import { type BacktestModel, createBacktest, type KnownLabel } from '../../src/cli/backtest.js';
import { createAvroCodec, loadAvroSchema } from '../../src/codec/index.js';
import { packagePath } from '../../src/config/index.js';
import type { DecodedRecord, FeatureRows } from '../../src/features/index.js';
import { compileFeatureExtractor } from '../../src/features/index.js';
import type { InputRecord } from '../../src/kafka/index.js';
import { type FeatureSpec, readManifest } from '../../src/models/index.js';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';

const inputType = loadAvroSchema(packagePath('schemas/card-transaction.avsc'));
const codec = createAvroCodec<CardTransaction>(inputType);

/** A version whose score is its one feature, `read` from the event, as a float32. */
async function echoModel(
  variant: string,
  name: string,
  threshold: number,
  spec: FeatureSpec,
): Promise<BacktestModel> {
  const manifest = { ...(await readManifest(packagePath('models/fraud-gbm/1'))), name, threshold };
  return {
    variant,
    features: compileFeatureExtractor([spec], inputType),
    session: {
      manifest,
      id: `${name}@${manifest.version}`,
      score: async (features: FeatureRows, rows: number) => Float32Array.from(features.subarray(0, rows)),
      release: async () => undefined,
    },
  };
}

const record = (value: Buffer, index: number): InputRecord => ({
  key: null,
  value,
  offset: String(index),
  timestamp: String(1_700_000_000_000 + index),
});

describe('a backtest', () => {
  it('skips what the baseline cannot take, marks what only the candidate cannot, and counts labels per version', async () => {
    const stream = sampleTransactions({ seed: 31 });
    const events = Array.from({ length: 400 }, (_, index) => {
      const event = stream.next().value as CardTransaction;
      // Scores in [0, 1): the baseline's from the amount, the candidate's from the latitude, null in some.
      return {
        ...event,
        amount_minor: (index * 37) % 100,
        latitude: index % 10 === 0 ? null : (index % 50) / 50,
      };
    });
    const baseline = await echoModel('baseline', 'amount', 50, {
      name: 'amount',
      field: 'amount_minor',
      transforms: [],
    });
    const candidate = await echoModel('candidate', 'latitude', 0.5, {
      name: 'latitude',
      field: 'latitude',
      transforms: [],
    });
    // A label for every other event: fraud for every third.
    const labels = new Map<string, KnownLabel>(
      events
        .filter((_, index) => index % 2 === 0)
        .map((event, index) => [
          event.event_id,
          { label: index % 3 === 0 ? 'fraud' : 'legit', labelTime: 0 },
        ]),
    );
    const backtest = createBacktest({
      decoder: createAvroCodec<DecodedRecord>(inputType),
      baseline,
      candidate,
      labels,
    });
    const values = events.map((event) => codec.encode(event));
    values.splice(200, 0, Buffer.alloc(0));
    for (const [index, value] of values.entries()) {
      backtest.add(record(value, index));
      if (index % 128 === 127) await backtest.flush();
    }
    await backtest.flush();
    const result = backtest.result();

    const nullLatitude = events.filter((event) => event.latitude === null);
    expect(result.events).toBe(401);
    expect(result.scored).toBe(400);
    expect(result.skipped).toEqual([{ code: 'RECORD_EMPTY', count: 1 }]);
    expect(result.comparison).toMatchObject({
      compared: 400,
      comparable: 400 - nullLatitude.length,
      challengerStatus: { ok: 400 - nullLatitude.length, timeout: 0, error: nullLatitude.length, shed: 0 },
    });

    const expected = (score: (event: CardTransaction) => number | null, threshold: number) => {
      const counts = { true_positives: 0, false_positives: 0, true_negatives: 0, false_negatives: 0 };
      let positives = 0;
      let scored = 0;
      for (const event of events) {
        const value = score(event);
        if (value === null) continue;
        scored += 1;
        const positive = Math.fround(value) >= threshold;
        if (positive) positives += 1;
        const known = labels.get(event.event_id);
        if (!known) continue;
        if (known.label === 'fraud') counts[positive ? 'true_positives' : 'false_negatives'] += 1;
        else counts[positive ? 'false_positives' : 'true_negatives'] += 1;
      }
      return { scored, positives, counts };
    };
    for (const [outcome, truth] of [
      [result.baseline, expected((event) => event.amount_minor, 50)],
      [result.candidate, expected((event) => event.latitude ?? null, 0.5)],
    ] as const) {
      expect(outcome).toMatchObject({ scored: truth.scored, positives: truth.positives });
      expect(outcome.groundTruth).toMatchObject(truth.counts);
      expect(Object.values(truth.counts).every((count) => count > 0)).toBe(true);
    }
  });

  it('has no comparison when nothing in the range could be scored', async () => {
    const spec = { name: 'amount', field: 'amount_minor', transforms: [] };
    const backtest = createBacktest({
      decoder: createAvroCodec<DecodedRecord>(inputType),
      baseline: await echoModel('baseline', 'a', 0.5, spec),
      candidate: await echoModel('candidate', 'b', 0.5, spec),
      labels: undefined,
    });
    backtest.add(record(Buffer.from([1, 2]), 0));
    await backtest.flush();
    expect(backtest.result()).toMatchObject({
      events: 1,
      scored: 0,
      comparison: null,
      baseline: { scored: 0, positiveRate: null, groundTruth: null },
    });
  });
});
