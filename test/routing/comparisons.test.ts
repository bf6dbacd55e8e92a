import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { createConfluentEncoder } from '../../src/codec/index.js';
import { packagePath } from '../../src/config/index.js';
import type { InputRecord, OutputRecord } from '../../src/kafka/index.js';
import {
  type ChallengerScores,
  type ChampionScores,
  type Comparison,
  type ComparisonSource,
  createComparisonEncoder,
  loadComparisonCodec,
  SCORING_STATUS_SYMBOLS,
  ScoringStatus,
} from '../../src/routing/index.js';

const codec = loadComparisonCodec();
const encoder = createComparisonEncoder(codec);

const championManifest = {
  name: 'fraud-gbm',
  version: '1',
  sha256: 'a'.repeat(64),
  threshold: 0.5,
  labels: { negative: 'legit', positive: 'fraud' },
};
const challengerManifest = {
  name: 'fraud-mlp',
  version: '2',
  sha256: 'b'.repeat(64),
  threshold: 0.5,
  labels: { negative: 'legit', positive: 'fraud' },
};

function source(rows: number): ComparisonSource {
  const records: InputRecord[] = [];
  const events = [];
  for (let row = 0; row < rows; row++) {
    records.push({
      key: Buffer.from(`account-${row}`),
      value: null,
      offset: String(40 + row),
      timestamp: '0',
    });
    events.push({ event_id: `event-${row}`, event_time: 1_700_000_000_000 + row });
  }
  return { topic: 'transactions', partition: 2, records, events, comparedTime: 1_700_000_005_000 };
}

function champion(scores: number[], statuses?: number[]): ChampionScores {
  return {
    variant: 'primary',
    manifest: championManifest,
    scores: Float32Array.from(scores),
    statuses: statuses ? Uint8Array.from(statuses) : undefined,
    latencyMs: 1.5,
  };
}

function challenger(rows: number[], scores: number[], statuses: number[]): ChallengerScores {
  return {
    variant: 'mlp',
    manifest: challengerManifest,
    rows: Uint32Array.from(rows),
    count: rows.length,
    scores: Float32Array.from(scores),
    statuses: Uint8Array.from(statuses),
    latencyMs: 4.25,
  };
}

const decodeAll = (out: OutputRecord[]): Comparison[] => out.map((record) => codec.decode(record.value));

describe('comparison records', () => {
  it('round-trips every field through schemas/comparison.avsc, keyed like the event', () => {
    const out: OutputRecord[] = [];
    // Dyadic scores, exact in float32, so the expected values are exact too.
    encoder.encodeComparisons(out, source(3), champion([0.25, 0.375, 0.875]), challenger([1], [0.625], [0]));
    expect(out).toHaveLength(1);
    expect(out[0]!.key).toEqual(Buffer.from('account-1'));
    expect({ ...codec.decode(out[0]!.value) }).toEqual({
      event_id: 'event-1',
      source_topic: 'transactions',
      source_partition: 2,
      source_offset: 41,
      event_time: 1_700_000_000_001,
      compared_time: 1_700_000_005_000,
      champion: {
        variant: 'primary',
        model_name: 'fraud-gbm',
        model_version: '1',
        model_sha256: 'a'.repeat(64),
        status: 'OK',
        score: 0.375,
        label: 'legit',
        threshold: 0.5,
        latency_ms: 1.5,
      },
      challenger: {
        variant: 'mlp',
        model_name: 'fraud-mlp',
        model_version: '2',
        model_sha256: 'b'.repeat(64),
        status: 'OK',
        score: 0.625,
        label: 'fraud',
        threshold: 0.5,
        latency_ms: 4.25,
      },
      agree: false,
      flip: 'CHALLENGER_ONLY_POSITIVE',
      score_diff: 0.25,
    });
  });

  it('derives agree, flip and score_diff for each pair of decisions', () => {
    // Rows: champion negative/positive × challenger negative/positive.
    const out: OutputRecord[] = [];
    encoder.encodeComparisons(
      out,
      source(4),
      champion([0.125, 0.125, 0.75, 0.75]),
      challenger([0, 1, 2, 3], [0.25, 0.5, 0.25, 1], [0, 0, 0, 0]),
    );
    const derived = decodeAll(out).map(({ champion, challenger, agree, flip, score_diff }) => ({
      labels: [champion.label, challenger.label],
      agree,
      flip,
      score_diff,
    }));
    expect(derived).toEqual([
      { labels: ['legit', 'legit'], agree: true, flip: 'NONE', score_diff: 0.125 },
      { labels: ['legit', 'fraud'], agree: false, flip: 'CHALLENGER_ONLY_POSITIVE', score_diff: 0.375 },
      { labels: ['fraud', 'legit'], agree: false, flip: 'CHAMPION_ONLY_POSITIVE', score_diff: -0.5 },
      { labels: ['fraud', 'fraud'], agree: true, flip: 'NONE', score_diff: 0.25 },
    ]);
  });

  it('leaves score, label, latency and every derived field empty unless both models scored', () => {
    const statuses = Object.values(ScoringStatus);
    const combinations = statuses.flatMap((championStatus) =>
      statuses.map((challengerStatus) => [championStatus, challengerStatus] as const),
    );
    const rows = combinations.map((_, row) => row);
    const out: OutputRecord[] = [];
    encoder.encodeComparisons(
      out,
      source(rows.length),
      champion(
        rows.map(() => 0.75),
        combinations.map(([championStatus]) => championStatus),
      ),
      challenger(
        rows,
        rows.map(() => 0.25),
        combinations.map(([, challengerStatus]) => challengerStatus),
      ),
    );
    const decoded = decodeAll(out);
    expect(decoded).toHaveLength(16);
    for (const [row, [championStatus, challengerStatus]] of combinations.entries()) {
      const { champion: first, challenger: second, agree, flip, score_diff } = decoded[row]!;
      expect([first.status, second.status]).toEqual([
        SCORING_STATUS_SYMBOLS[championStatus],
        SCORING_STATUS_SYMBOLS[challengerStatus],
      ]);
      const championOk = championStatus === ScoringStatus.OK;
      const challengerOk = challengerStatus === ScoringStatus.OK;
      expect([first.score, first.label, first.latency_ms]).toEqual(
        championOk ? [0.75, 'fraud', 1.5] : [null, null, null],
      );
      expect([second.score, second.label, second.latency_ms]).toEqual(
        challengerOk ? [0.25, 'legit', 4.25] : [null, null, null],
      );
      // Thresholds and identities are there whatever happened.
      expect([first.threshold, second.threshold, second.model_sha256]).toEqual([0.5, 0.5, 'b'.repeat(64)]);
      expect({ agree, flip, score_diff }).toEqual(
        championOk && challengerOk
          ? { agree: false, flip: 'CHAMPION_ONLY_POSITIVE', score_diff: -0.5 }
          : { agree: null, flip: 'NONE', score_diff: null },
      );
    }
  });

  it('judges each model by its own threshold, so equal scores can flip', () => {
    const lenient = { ...challengerManifest, threshold: 0.25, labels: { negative: '0', positive: '1' } };
    const out: OutputRecord[] = [];
    encoder.encodeComparisons(out, source(1), champion([0.375]), {
      ...challenger([0], [0.375], [0]),
      manifest: lenient,
    });
    const [comparison] = decodeAll(out);
    expect(comparison!.champion.label).toBe('legit');
    expect(comparison!.challenger.label).toBe('1');
    expect(comparison!.agree).toBe(false);
    expect(comparison!.flip).toBe('CHALLENGER_ONLY_POSITIVE');
    expect(comparison!.score_diff).toBe(0);
  });

  it('appends only the rows the challenger was given, after what `out` already held', () => {
    const out: OutputRecord[] = [{ key: 'earlier', value: Buffer.from('x') }];
    // Only `count` positions are read: the arrays may be longer (reused buffers).
    const given = challenger([0, 2, 3, 1], [0.5, 0.5, 0.5, 0.5], [0, 1, 2, 0]);
    encoder.encodeComparisons(out, source(4), champion([0.5, 0.5, 0.5, 0.5]), { ...given, count: 3 });
    expect(out[0]!.key).toBe('earlier');
    const appended = out.slice(1);
    expect(appended.map((record) => record.key?.toString())).toEqual(['account-0', 'account-2', 'account-3']);
    expect(decodeAll(appended).map((c) => [c.event_id, c.source_offset, c.challenger.status])).toEqual([
      ['event-0', 40, 'OK'],
      ['event-2', 42, 'TIMEOUT'],
      ['event-3', 43, 'ERROR'],
    ]);
  });
});

describe('comparison bytes', () => {
  /** A small deterministic generator, so a failing case can be replayed. */
  function lcg(seed: number) {
    let state = seed;
    return () => {
      state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
      return state / 2 ** 32;
    };
  }
  const pick = <T>(random: () => number, values: readonly T[]): T =>
    values[Math.floor(random() * values.length)]!;

  function randomBatch(random: () => number) {
    const rows = 1 + Math.floor(random() * 40);
    const records: InputRecord[] = [];
    const events = [];
    for (let row = 0; row < rows; row++) {
      records.push({
        key: Buffer.from(`k${row}`),
        value: null,
        offset: String(pick(random, [0, 63, 64, 8_191, 2 ** 31, 2 ** 40 + row, 2 ** 50 - row])),
        timestamp: '0',
      });
      events.push({
        event_id: pick(random, ['', 'e', `évènement-${row}`, '支付-🙂', 'x'.repeat(200 + row)]),
        event_time: pick(random, [0, 1_700_000_000_000 + row, 2 ** 45]),
      });
    }
    const manifest = (name: string) => ({
      name,
      version: pick(random, ['1', '2026.12.03', 'v-ß']),
      sha256: 'c'.repeat(64),
      threshold: pick(random, [0, 0.5, 0.91, 1]),
      labels: { negative: pick(random, ['legit', '']), positive: pick(random, ['fraud', 'フラウド']) },
    });
    const scores = () => Float32Array.from({ length: rows }, () => pick(random, [0, 1, random(), 0.5]));
    // Status codes include one no symbol has, which is written as ERROR.
    const statuses = () => Uint8Array.from({ length: rows }, () => pick(random, [0, 0, 0, 1, 2, 3, 7]));
    const given = Uint32Array.from({ length: rows }, (_, row) => row).filter(() => random() < 0.7);
    const championScores: ChampionScores = {
      variant: 'primary',
      manifest: manifest('fraud-gbm'),
      scores: scores(),
      statuses: random() < 0.5 ? statuses() : undefined,
      latencyMs: random() * 10,
    };
    const challengerScores: ChallengerScores = {
      variant: pick(random, ['shadow', 'canary-b']),
      manifest: manifest('fraud-mlp'),
      rows: given,
      count: given.length,
      scores: scores(),
      statuses: statuses(),
      latencyMs: random() < 0.3 ? undefined : random() * 10,
    };
    const batch: ComparisonSource = {
      topic: pick(random, ['transactions', 'pagos-ñ']),
      partition: pick(random, [0, 7, 999]),
      records,
      events,
      comparedTime: 1_764_000_000_000,
    };
    return { batch, championScores, challengerScores };
  }

  it('are the bytes avsc writes for the same comparison, with and without the Confluent header', () => {
    const random = lcg(2026);
    const confluent = createConfluentEncoder<Comparison>(codec.type, 0x01_02_03_04);
    const encoders = [
      { prefix: Buffer.alloc(0), encoder: createComparisonEncoder(codec) },
      { prefix: confluent.prefix, encoder: createComparisonEncoder(confluent) },
    ];
    let compared = 0;
    for (let round = 0; round < 300; round++) {
      const { batch, championScores, challengerScores } = randomBatch(random);
      for (const { prefix, encoder: under } of encoders) {
        const out: OutputRecord[] = [];
        under.encodeComparisons(out, batch, championScores, challengerScores);
        expect(out).toHaveLength(challengerScores.count);
        for (const { value } of out) {
          expect(value!.subarray(0, prefix.length)).toEqual(prefix);
          const datum = value!.subarray(prefix.length);
          const avscBytes = codec.type.toBuffer(codec.type.fromBuffer(datum));
          expect(Buffer.compare(datum, avscBytes), `round ${round}`).toBe(0);
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(5_000);
  });
});

describe('comparison schema', () => {
  interface Field {
    name: string;
    type: unknown;
    doc?: string;
    default?: unknown;
  }
  const schema = JSON.parse(readFileSync(packagePath('schemas/comparison.avsc'), 'utf8')) as {
    fields: Field[];
  };
  const nested = schema.fields.find((field) => field.name === 'champion')!.type as { fields: Field[] };
  const allFields = [...schema.fields, ...nested.fields];

  it('documents every field', () => {
    expect(allFields.filter((field) => !field.doc).map((field) => field.name)).toEqual([]);
  });

  it('gives every nullable field a null default, so readers and later versions can do without it', () => {
    const nullable = allFields.filter((field) => Array.isArray(field.type) && field.type[0] === 'null');
    expect(nullable.map((field) => field.name).sort()).toEqual([
      'agree',
      'label',
      'latency_ms',
      'score',
      'score_diff',
    ]);
    expect(nullable.every((field) => 'default' in field && field.default === null)).toBe(true);
  });

  it('reads a record written without the derived fields, with their defaults', () => {
    const older = {
      ...schema,
      fields: schema.fields.filter((field) => !['agree', 'flip', 'score_diff'].includes(field.name)),
    };
    const olderType = avro.Type.forSchema(older as avro.Schema);
    const out: OutputRecord[] = [];
    encoder.encodeComparisons(out, source(1), champion([0.5]), challenger([0], [0.5], [0]));
    const written = olderType.toBuffer(codec.decode(out[0]!.value));
    const comparison = codec.type.fromBuffer(written, codec.type.createResolver(olderType)) as Comparison;
    expect([comparison.agree, comparison.flip, comparison.score_diff]).toEqual([null, 'NONE', null]);
  });
});
