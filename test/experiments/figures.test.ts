import { describe, expect, it } from 'vitest';
import { createExperimentFigures, type Figures } from '../../src/experiments/index.js';
import type { InputRecord, OutputRecord } from '../../src/kafka/index.js';
import {
  type ChallengerScores,
  type ChampionScores,
  createComparisonEncoder,
  loadComparisonCodec,
  ScoringStatus,
} from '../../src/routing/index.js';

const { OK, TIMEOUT, ERROR, SHED } = ScoringStatus;
const STEP = 10 ** (1 / 20) * (1 + 1e-12);
const labels = { negative: 'legit', positive: 'fraud' };
const championManifest = { name: 'fraud-gbm', version: '1', sha256: 'a'.repeat(64), threshold: 0.5, labels };
const challengerManifest = {
  name: 'fraud-mlp',
  version: '2',
  sha256: 'b'.repeat(64),
  threshold: 0.5,
  labels,
};

function champion(scores: number[]): ChampionScores {
  return { variant: 'primary', manifest: championManifest, scores: Float32Array.from(scores), latencyMs: 2 };
}

function challenger(
  rows: number[],
  scores: number[],
  statuses: number[],
  latencyMs: number | undefined = 3,
): ChallengerScores {
  return {
    variant: 'mlp',
    manifest: challengerManifest,
    rows: Uint32Array.from(rows),
    count: rows.length,
    scores: Float32Array.from(scores),
    statuses: Uint8Array.from(statuses),
    latencyMs,
  };
}

/** PSI as the sum of both Kullback-Leibler divergences: a formula independent of the implementation's. */
function psiByKullbackLeibler(expectedCounts: number[], actualCounts: number[]): number {
  const shares = (counts: number[]) => {
    const total = counts.reduce((sum, count) => sum + count, 0);
    return counts.map((count) => Math.max(count / total, 1e-4));
  };
  const [e, a] = [shares(expectedCounts), shares(actualCounts)];
  const divergence = (p: number[], q: number[]) =>
    p.reduce((sum, pi, i) => sum + pi * Math.log(pi / q[i]!), 0);
  return divergence(a, e) + divergence(e, a);
}

// Eight events; the challenger is given rows 0-6 (row 7 is not in its share). Scores are dyadic, so exact
// in float32. Decisions at 0.5: row 1 champion-only positive, rows 2 and 3 challenger-only positive.
const CHAMPION = [0.125, 0.625, 0.375, 0.25, 0.875, 0.0625, 0.5, 0.9375];
const ROWS = [0, 1, 2, 3, 4, 5, 6];
const CHALLENGER = [0.1875, 0.375, 0.75, 0.5, 0.875, 0, 0];
const STATUSES = [OK, OK, OK, OK, OK, TIMEOUT, SHED];

function expectBatchFigures(figures: Figures): void {
  // |differences| over the five comparable rows: 0.0625, 0.25, 0.375, 0.25, 0.
  expect(figures).toMatchObject({
    compared: 7,
    comparable: 5,
    agreementRate: 2 / 5,
    flips: { challengerOnlyPositive: 2, championOnlyPositive: 1 },
    challengerStatus: { ok: 5, timeout: 1, error: 0, shed: 1 },
  });
  const difference = figures.absScoreDifference!;
  expect(difference.max).toBe(0.375);
  expect(difference.p99).toBe(0.375);
  // Nearest rank 3 of (0, 0.0625, 0.25, 0.25, 0.375) is 0.25; rank 5 (p90) is 0.375.
  expect(difference.p50).toBeGreaterThanOrEqual(0.25);
  expect(difference.p50).toBeLessThanOrEqual(0.25 * STEP);
  expect(difference.p90).toBe(0.375);
  expect(figures.challengerLatencyMs!.p50).toBeGreaterThanOrEqual(3);
  expect(figures.challengerLatencyMs!.p99).toBeLessThanOrEqual(3 * STEP);
  // Bins of the comparable rows: champion 1, 6, 3, 2, 8; challenger 1, 3, 7, 5, 8.
  const championBins = [0, 1, 1, 1, 0, 0, 1, 0, 1, 0];
  const challengerBins = [0, 1, 0, 1, 0, 1, 0, 1, 1, 0];
  expect(figures.psi).toBeCloseTo(psiByKullbackLeibler(championBins, challengerBins), 12);
}

describe('experiment figures', () => {
  it('computes every figure of a batch as counted by hand', () => {
    const figures = createExperimentFigures({ windowMs: 60_000 });
    figures.addBatch(champion(CHAMPION), challenger(ROWS, CHALLENGER, STATUSES), 1_000);
    const [pair] = figures.summary(1_000).pairs;
    expect(pair!.champion).toEqual({ variant: 'primary', model: 'fraud-gbm', version: '1' });
    expect(pair!.challenger).toEqual({ variant: 'mlp', model: 'fraud-mlp', version: '2' });
    expectBatchFigures(pair!.total);
    expect(pair!.window).toEqual(pair!.total);
  });

  it('says the same from comparison records read back as from the batch arrays', () => {
    const encoder = createComparisonEncoder();
    const codec = loadComparisonCodec();
    const records: InputRecord[] = CHAMPION.map((_, row) => ({
      key: null,
      value: null,
      offset: String(row),
      timestamp: '0',
    }));
    const events = CHAMPION.map((_, row) => ({ event_id: `e${row}`, event_time: 0 }));
    const out: OutputRecord[] = [];
    const source = { topic: 't', partition: 0, records, events, comparedTime: 1_000 };
    encoder.encodeComparisons(out, source, champion(CHAMPION), challenger(ROWS, CHALLENGER, STATUSES));

    const fromRecords = createExperimentFigures({ windowMs: 60_000 });
    for (const record of out) fromRecords.addComparison(codec.decode(record.value));
    const fromBatch = createExperimentFigures({ windowMs: 60_000 });
    fromBatch.addBatch(champion(CHAMPION), challenger(ROWS, CHALLENGER, STATUSES), 1_000);
    expectBatchFigures(fromRecords.summary(1_000).pairs[0]!.total);
    expect(fromRecords.summary(1_000)).toEqual(fromBatch.summary(1_000));
  });

  it('forgets a batch from the window between 0.9 and 1.0 window after it, and keeps it in the total', () => {
    const figures = createExperimentFigures({ windowMs: 60_000 });
    figures.addBatch(champion([0.25]), challenger([0], [0.75], [OK]), 1_000);
    const at = (nowMs: number) => figures.summary(nowMs).pairs[0]!;
    // Slices of 6 s: at 59,999 ms the window holds slices 0-9; at 60,000 ms slices 1-10.
    expect(at(1_000).window.compared).toBe(1);
    expect(at(59_999).window.compared).toBe(1);
    expect(at(60_000).window.compared).toBe(0);
    figures.addBatch(champion([0.25, 0.25]), challenger([0, 1], [0.25, 0.25], [OK, OK]), 61_000);
    expect(at(61_000).window).toMatchObject({
      compared: 2,
      agreementRate: 1,
      flips: { challengerOnlyPositive: 0 },
    });
    expect(at(61_000).total).toMatchObject({ compared: 3, flips: { challengerOnlyPositive: 1 } });
    expect(at(200_000).window.compared).toBe(0);
    expect(at(200_000).window.agreementRate).toBeNull();
    expect(at(200_000).total.compared).toBe(3);
  });

  it('counts a late batch older than the window in the total only', () => {
    const figures = createExperimentFigures({ windowMs: 60_000 });
    figures.addBatch(champion([0.25]), challenger([0], [0.25], [OK]), 100_000);
    figures.addBatch(champion([0.25]), challenger([0], [0.25], [ERROR]), 30_000);
    figures.addBatch(champion([0.25]), challenger([0], [0.25], [TIMEOUT]), 99_000);
    const [pair] = figures.summary(100_000).pairs;
    expect(pair!.total.challengerStatus).toEqual({ ok: 1, timeout: 1, error: 1, shed: 0 });
    expect(pair!.window.challengerStatus).toEqual({ ok: 1, timeout: 1, error: 0, shed: 0 });
  });

  it('reports a challenger that always timed out without inventing figures', () => {
    const figures = createExperimentFigures({ windowMs: 60_000 });
    figures.addBatch(
      champion([0.25, 0.75, 0.5]),
      challenger([0, 1, 2], [0, 0, 0], [TIMEOUT, TIMEOUT, TIMEOUT], undefined),
      5,
    );
    expect(figures.summary(5).pairs[0]!.total).toEqual({
      compared: 3,
      comparable: 0,
      agreementRate: null,
      flips: { challengerOnlyPositive: 0, championOnlyPositive: 0 },
      absScoreDifference: null,
      challengerStatus: { ok: 0, timeout: 3, error: 0, shed: 0 },
      challengerLatencyMs: null,
      psi: null,
    });
  });

  it('keeps each champion/challenger pair apart, in the order first seen', () => {
    const figures = createExperimentFigures({ windowMs: 60_000 });
    const other = { ...challenger([0], [0.75], [OK]), variant: 'hgb' };
    figures.addBatch(champion([0.25]), other, 0);
    figures.addBatch(champion([0.25, 0.25]), challenger([0, 1], [0.25, 0.25], [OK, OK]), 0);
    figures.addBatch(champion([0.25]), other, 0);
    const pairs = figures.summary(0).pairs;
    expect(pairs.map((pair) => [pair.challenger.variant, pair.total.compared])).toEqual([
      ['hgb', 2],
      ['mlp', 2],
    ]);
    expect(pairs[0]!.total.flips.challengerOnlyPositive).toBe(2);
  });
});
