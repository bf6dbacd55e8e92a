/**
 * The malformed-record corpus and the fuzzer's answer key, proven without a broker: each kind's expected
 * code is what the service's own codec and feature extraction give it, so the dead-letter test on the
 * broker only has to show that the service routes what these already classify.
 */
import { describe, expect, it } from 'vitest';
import { isBadRecord } from '../../src/errors/index.js';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { eventCodec } from '../support/codecs.js';
import {
  fuzzedRecords,
  malformedCorpus,
  type Outcome,
  oddButValid,
  outcomeOracle,
} from '../support/malformed.js';

const event = sampleTransactions({ seed: 31 }).next().value as CardTransaction;
const corpus = malformedCorpus(event);

/** The code the codec alone gives a value, or 'decoded'. */
function decodeOutcome(value: Buffer | null): string {
  try {
    eventCodec.decode(value);
    return 'decoded';
  } catch (error) {
    if (isBadRecord(error)) return error.code;
    throw error;
  }
}

describe('malformed-record corpus', () => {
  it('has at least 25 distinct kinds, each named once', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(25);
    expect(new Set(corpus.map((kind) => kind.name)).size).toBe(corpus.length);
    // Distinct kinds, not one kind repeated: no two values are the same bytes.
    const values = corpus.map((kind) => (kind.value === null ? 'null' : kind.value.toString('hex')));
    expect(new Set(values).size).toBe(corpus.length);
  });

  it('covers every code a bad record can reach with the sample model', () => {
    const codes = new Set(corpus.map((kind) => kind.code));
    // FEATURE_MISSING and FEATURE_WRONG_TYPE cannot happen with this schema and model: every feature the
    // model reads is either non-nullable or read through is_null, and the schema fixes every type.
    expect([...codes].sort()).toEqual(
      [
        'FEATURE_NOT_FINITE',
        'RECORD_EMPTY',
        'RECORD_TRAILING_BYTES',
        'RECORD_TRUNCATED',
        'RECORD_UNDECODABLE',
      ].sort(),
    );
  });

  it.each(corpus.map((kind) => [kind.name, kind] as const))('%s → its code', async (_name, kind) => {
    const outcome = (await outcomeOracle())(kind.value);
    expect(outcome).toBe(kind.code);
    // Decode errors come from the codec itself, feature errors only after a clean decode.
    const decoded = decodeOutcome(kind.value);
    if (kind.code.startsWith('FEATURE_')) expect(decoded).toBe('decoded');
    else expect(decoded).toBe(kind.code);
  });

  it('classifies the Confluent wire format as not plain Avro, whatever the schema id', async () => {
    const oracle = await outcomeOracle();
    const datum = eventCodec.encode(event);
    const outcomes = new Set<Outcome>();
    for (const schemaId of [1, 7, 42, 100, 1_000, 65_536]) {
      const header = Buffer.alloc(5);
      header.writeUInt32BE(schemaId, 1);
      outcomes.add(oracle(Buffer.concat([header, datum])));
    }
    expect(outcomes.has('scored')).toBe(false);
  });

  it.each(oddButValid(event).map((odd) => [odd.name, odd] as const))(
    '%s is scored, not dead-lettered',
    async (_name, odd) => {
      expect((await outcomeOracle())(odd.value)).toBe('scored');
    },
  );
});

describe('fuzzer', () => {
  const stream = sampleTransactions({ seed: 5 });
  const valid = Array.from({ length: 200 }, () => eventCodec.encode(stream.next().value as CardTransaction));

  it('gives the same records for the same seed', () => {
    const first = fuzzedRecords(11, valid);
    const second = fuzzedRecords(11, valid);
    for (let index = 0; index < 1_000; index++) {
      expect(first.next().value.equals(second.next().value)).toBe(true);
    }
  });

  it('mixes scored records with every decode-level code in 100,000 records', async () => {
    const oracle = await outcomeOracle();
    const counts = new Map<Outcome, number>();
    const records = fuzzedRecords(2026, valid);
    for (let index = 0; index < 100_000; index++) {
      const outcome = oracle(records.next().value);
      counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
    }
    console.log(
      `[faults] fuzzer outcomes over 100,000 records: ${JSON.stringify(Object.fromEntries(counts))}`,
    );
    const required: Outcome[] = ['scored', 'RECORD_TRUNCATED', 'RECORD_TRAILING_BYTES', 'RECORD_UNDECODABLE'];
    for (const outcome of required) expect(counts.get(outcome) ?? 0).toBeGreaterThan(1_000);
  });
});
