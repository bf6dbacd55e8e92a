/**
 * `streamscore experiments report` as an analyst runs it: a separate process reading a comparison topic on
 * the real broker. The topic holds comparison records built with the routing encoder at three chosen
 * times (3 h, 2 h and 20 min ago), one undecodable record, and an aborted transaction; the printed figures
 * must equal the ones worked out by hand below, for the whole topic and for --from/--to ranges.
 */
import type { Message } from 'kafkajs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { ExperimentsReport } from '../../src/cli/commands/experiments.js';
import type { Figures, PairSummary } from '../../src/experiments/index.js';
import type { InputRecord, OutputRecord } from '../../src/kafka/index.js';
import { type ChallengerScores, createComparisonEncoder, ScoringStatus } from '../../src/routing/index.js';
import { connectedProducer, createTopics, testKafka, uniqueName } from '../support/kafka.js';
import { runStreamscore } from '../support/processes.js';

const { OK, TIMEOUT, ERROR, SHED } = ScoringStatus;
const HOUR = 3_600_000;
const STEP = 10 ** (1 / 20) * (1 + 1e-12);
const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers);
const topic = uniqueName('comparisons');
const now = Date.now();
const OLD = now - 3 * HOUR;
const MID = now - 2 * HOUR;
const RECENT = now - 20 * 60_000;

type Labels = { negative: string; positive: string };
const model = (variant: string, name: string, version: string, threshold: number, labels: Labels) => ({
  variant,
  manifest: { name, version, sha256: name.slice(-1).repeat(64), threshold, labels },
});
const champion = model('primary', 'fraud-gbm', '1', 0.5, { negative: 'legit', positive: 'fraud' });
const mlp = model('mlp', 'fraud-mlp', '2', 0.5, { negative: 'legit', positive: 'fraud' });
const hgb = model('hgb', 'fraud-hgb', '1', 0.25, { negative: '0', positive: '1' });

type Shadow = [model: typeof mlp, rows: number[], scores: number[], statuses: number[], latencyMs: number];

/** One partition batch's comparisons, stamped with `time` as both compared_time and Kafka timestamp. */
function batch(time: number, championScores: number[], ...shadows: Shadow[]): Message[] {
  const records: InputRecord[] = championScores.map((_, row) => ({
    key: Buffer.from(`account-${time}-${row}`),
    value: null,
    offset: String(row),
    timestamp: String(time),
  }));
  const events = championScores.map((_, row) => ({ event_id: `event-${time}-${row}`, event_time: time - 5 }));
  const source = { topic: 'transactions', partition: 0, records, events, comparedTime: time };
  const scored = { ...champion, scores: Float32Array.from(championScores), latencyMs: 1 };
  const out: OutputRecord[] = [];
  const encoder = createComparisonEncoder();
  for (const [model, rows, scores, statuses, latencyMs] of shadows) {
    const challenger: ChallengerScores = {
      ...model,
      rows,
      count: rows.length,
      scores: Float32Array.from(scores),
      statuses: Uint8Array.from(statuses),
      latencyMs,
    };
    encoder.encodeComparisons(out, source, scored, challenger);
  }
  return out.map(({ key, value }) => ({ key, value, timestamp: String(time) }));
}

// Dyadic scores (exact in float32); decisions at 0.5 for mlp, 0.25 for hgb.
const oldBatch = batch(
  OLD,
  [0.125, 0.625, 0.25, 0.75],
  [mlp, [0, 1, 2, 3], [0.125, 0.375, 0, 0.875], [OK, OK, TIMEOUT, OK], 2],
);
const midBatch = batch(
  MID,
  [0.5, 0.0625, 0.875],
  [mlp, [0, 1], [0.25, 0.5625], [OK, OK], 4],
  [hgb, [1, 2], [0.3125, 0], [OK, ERROR], 8],
);
const recentBatch = batch(
  RECENT,
  [0.9375, 0.125, 0.5],
  [mlp, [0, 1, 2], [0.9375, 0.125, 0], [OK, OK, SHED], 1],
);
const abortedBatch = batch(RECENT, [0.5], [mlp, [0], [0], [ERROR], 1]);

/** PSI as the sum of both Kullback-Leibler divergences, empty bins at a share of 1e-4. */
function psi(championBins: Record<number, number>, challengerBins: Record<number, number>): number {
  const shares = (bins: Record<number, number>) => {
    const counts = Array.from({ length: 10 }, (_, bin) => bins[bin] ?? 0);
    const total = counts.reduce((sum, count) => sum + count, 0);
    return counts.map((count) => Math.max(count / total, 1e-4));
  };
  const [e, a] = [shares(championBins), shares(challengerBins)];
  const divergence = (p: number[], q: number[]) =>
    p.reduce((sum, pi, i) => sum + pi * Math.log(pi / q[i]!), 0);
  return divergence(a, e) + divergence(e, a);
}

/**
 * Counts, rates, flips, max and PSI exactly; a quantile may be up to one histogram bucket (12%) above the
 * exact value at its rank, given in `expected`.
 */
function expectFigures(actual: Figures, expected: Figures): void {
  const { absScoreDifference: difference, challengerLatencyMs: latency, psi, ...exact } = actual;
  const {
    absScoreDifference: expectedDifference,
    challengerLatencyMs: expectedLatency,
    psi: expectedPsi,
    ...rest
  } = expected;
  expect(exact).toEqual(rest);
  const within = (value: number | undefined, truth: number) => {
    expect(value).toBeGreaterThanOrEqual(truth);
    expect(value).toBeLessThanOrEqual(truth * STEP);
  };
  expect([difference === null, latency === null, psi === null]).toEqual([
    expectedDifference === null,
    expectedLatency === null,
    expectedPsi === null,
  ]);
  if (expectedDifference) {
    for (const key of ['p50', 'p90', 'p99'] as const) within(difference?.[key], expectedDifference[key]);
    expect(difference?.max).toBe(expectedDifference.max);
  }
  if (expectedLatency)
    for (const key of ['p50', 'p99'] as const) within(latency?.[key], expectedLatency[key]);
  if (expectedPsi !== null) expect(psi).toBeCloseTo(expectedPsi, 10);
}

const statuses = (ok: number, timeout: number, error: number, shed: number) => ({ ok, timeout, error, shed });
// hgb in the middle batch: row 1 is 0.0625 against 0.3125 (a challenger-only positive at 0.25), row 2 failed.
const hgbFigures: Figures = {
  compared: 2,
  comparable: 1,
  agreementRate: 0,
  flips: { challengerOnlyPositive: 1, championOnlyPositive: 0 },
  absScoreDifference: { p50: 0.25, p90: 0.25, p99: 0.25, max: 0.25 },
  challengerStatus: statuses(1, 0, 1, 0),
  challengerLatencyMs: { p50: 8, p99: 8 },
  psi: psi({ 0: 1 }, { 3: 1 }),
};

const env = { ...process.env, STREAMSCORE_KAFKA_BROKERS: brokers.join(','), STREAMSCORE_LOG_LEVEL: 'warn' };
const report = (...args: string[]) => runStreamscore(['experiments', 'report', ...args], env);
async function reportJson(...args: string[]): Promise<ExperimentsReport> {
  const { stdout } = await report('--topic', topic, '--json', ...args);
  return JSON.parse(stdout) as ExperimentsReport;
}
const pairOf = (result: ExperimentsReport, variant: string): PairSummary | undefined =>
  result.pairs.find((pair) => pair.challenger.variant === variant);

describe('streamscore experiments report', () => {
  beforeAll(async () => {
    await createTopics(kafka, [topic], 3);
    const producer = await connectedProducer(kafka);
    try {
      await producer.send({
        topic,
        acks: -1,
        messages: [...oldBatch, { key: 'x', value: 'not avro', timestamp: String(OLD) }],
      });
      await producer.send({ topic, acks: -1, messages: midBatch });
    } finally {
      await producer.disconnect();
    }
    // The recent comparisons come in a committed transaction after an aborted one, as in exactly-once
    // mode: the report must skip the aborted record and read past both transactions' markers.
    const transactional = kafka.producer({
      transactionalId: uniqueName('report-test'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await transactional.connect();
    try {
      const aborted = await transactional.transaction();
      await aborted.send({ topic, acks: -1, messages: abortedBatch });
      await aborted.abort();
      const committed = await transactional.transaction();
      await committed.send({ topic, acks: -1, messages: recentBatch });
      await committed.commit();
    } finally {
      await transactional.disconnect();
    }
  });

  it('reports the whole topic per champion/challenger pair, as worked out by hand', async () => {
    const result = await reportJson();
    expect(result).toMatchObject({
      topic,
      from: null,
      to: null,
      records: 11,
      undecodable: 1,
      windowMs: 60_000,
    });
    expect(result.at).toBe(RECENT);
    expect(result.pairs).toHaveLength(2);
    const mlpPair = pairOf(result, 'mlp')!;
    expect(mlpPair.champion).toEqual({ variant: 'primary', model: 'fraud-gbm', version: '1' });
    expect(mlpPair.challenger).toEqual({ variant: 'mlp', model: 'fraud-mlp', version: '2' });
    // Comparable rows, champion → challenger: old 0.125→0.125, 0.625→0.375 (champion only positive),
    // 0.75→0.875; middle 0.5→0.25 (champion only), 0.0625→0.5625 (challenger only); recent 0.9375→0.9375,
    // 0.125→0.125. |differences| 0, 0, 0, 0.125, 0.25, 0.25, 0.5; latencies 2, 2, 2, 4, 4, 1, 1.
    expectFigures(mlpPair.total, {
      compared: 9,
      comparable: 7,
      agreementRate: 4 / 7,
      flips: { challengerOnlyPositive: 1, championOnlyPositive: 2 },
      absScoreDifference: { p50: 0.125, p90: 0.5, p99: 0.5, max: 0.5 },
      challengerStatus: statuses(7, 1, 0, 1),
      challengerLatencyMs: { p50: 2, p99: 4 },
      psi: psi({ 0: 1, 1: 2, 5: 1, 6: 1, 7: 1, 9: 1 }, { 1: 2, 2: 1, 3: 1, 5: 1, 8: 1, 9: 1 }),
    });
    // The window is the minute up to the newest comparison: the recent batch alone.
    expectFigures(mlpPair.window, {
      compared: 3,
      comparable: 2,
      agreementRate: 1,
      flips: { challengerOnlyPositive: 0, championOnlyPositive: 0 },
      absScoreDifference: { p50: 0, p90: 0, p99: 0, max: 0 },
      challengerStatus: statuses(2, 0, 0, 1),
      challengerLatencyMs: { p50: 1, p99: 1 },
      psi: 0,
    });
    expectFigures(pairOf(result, 'hgb')!.total, hgbFigures);
    expect(pairOf(result, 'hgb')!.window).toMatchObject({ compared: 0, agreementRate: null, psi: null });
  });

  it('selects a range given as ISO times, the end exclusive', async () => {
    const from = new Date(MID - HOUR / 2).toISOString();
    const result = await reportJson('--from', from, '--to', new Date(RECENT).toISOString());
    expect(result).toMatchObject({ from, to: new Date(RECENT).toISOString(), records: 4, undecodable: 0 });
    expectFigures(pairOf(result, 'mlp')!.total, {
      compared: 2,
      comparable: 2,
      agreementRate: 0,
      flips: { challengerOnlyPositive: 1, championOnlyPositive: 1 },
      absScoreDifference: { p50: 0.25, p90: 0.5, p99: 0.5, max: 0.5 },
      challengerStatus: statuses(2, 0, 0, 0),
      challengerLatencyMs: { p50: 4, p99: 4 },
      psi: psi({ 5: 1, 0: 1 }, { 2: 1, 5: 1 }),
    });
    expectFigures(pairOf(result, 'hgb')!.total, hgbFigures);
  });

  it('selects a range given as a time ago', async () => {
    const result = await reportJson('--from', '1h');
    expect(result).toMatchObject({ records: 3, undecodable: 0 });
    expect(result.pairs.map((pair) => pair.challenger.variant)).toEqual(['mlp']);
    expect(pairOf(result, 'mlp')!.total).toEqual(pairOf(result, 'mlp')!.window);
    expect(pairOf(result, 'mlp')!.total).toMatchObject({ compared: 3, comparable: 2, agreementRate: 1 });
  });

  it('prints a table for people by default', async () => {
    const { stdout } = await report('--topic', topic, '--from', '150m', '--to', '90m');
    expect(stdout).toContain(`${topic} from `);
    expect(stdout).toContain('4 comparisons');
    expect(stdout).toContain('champion primary fraud-gbm@1  vs  challenger hgb fraud-hgb@1');
    expect(stdout).toMatch(/flips, challenger only positive\s+1\s+0\n/);
    expect(stdout).toMatch(/agreement\s+0\.00%\s+-\n/);
  });

  it('names a missing topic (exit 2) and refuses a range that ends before it starts (exit 1)', async () => {
    const failure = (...args: string[]) =>
      report(...args).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      );
    const missing = uniqueName('no-comparisons');
    const noTopic = await failure('--topic', missing);
    expect(noTopic?.code).toBe(2);
    expect(noTopic?.stderr).toContain(`TOPIC_MISSING: topic ${missing} does not exist`);
    const backwards = await failure('--topic', topic, '--from', '1h', '--to', '2h');
    expect(backwards?.code).toBe(1);
    expect(backwards?.stderr).toMatch(/--from .* must be before --to/);
  });
});
