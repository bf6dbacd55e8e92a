/** The key split: a stable, well-spread bucket per key, independent of the partition Kafka picks for it. */
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { describe, expect, it, vi } from 'vitest';
import {
  bucketOf,
  bucketsInto,
  CHAMPION,
  compileSplit,
  murmur3,
  NULL_KEY_BUCKET,
  rowsInSlice,
} from '../../src/deployments/split.js';
import type { Challenger, ChallengerMode } from '../../src/deployments/state.js';

const challenger = (variant: string, mode: ChallengerMode, share: number): Challenger => ({
  variant,
  mode,
  model: 'fraud-gbm',
  version: '2',
  share,
});

// Keys as the sample producer writes them (one per account): similar, sequential strings.
const KEYS = Array.from({ length: 20_000 }, (_, index) => ({
  key: Buffer.from(`acct-${String(index).padStart(6, '0')}`),
}));

const bucketsOf = (records: readonly { key: Buffer | null }[]): Float64Array => {
  const buckets = new Float64Array(records.length);
  bucketsInto(records, buckets);
  return buckets;
};

/** The partition kafkajs's default partitioner (Java's: toPositive(murmur2(key)) % n) gives each key. */
function kafkaPartitions(partitions: number): number[] {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from(
    { length: partitions },
    (_, partitionId): PartitionMetadata => ({
      partitionErrorCode: 0,
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
    }),
  );
  return KEYS.map(({ key }) =>
    partitioner({ topic: 'transactions', partitionMetadata, message: { key, value: null } }),
  );
}

describe('murmur3', () => {
  it("gives MurmurHash3 x86_32's reference values (Python mmh3, Guava murmur3_32_fixed)", () => {
    const cases: [string | Buffer, number][] = [
      ['', 0],
      ['a', 1009084850],
      ['ab', 2613040991],
      ['abc', 3017643002],
      ['abcd', 1139631978],
      ['hello', 613153351],
      ['acct-000001', 2952617479],
      ['The quick brown fox jumps over the lazy dog', 0x2e4ff723],
      [Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), 1626341384],
    ];
    for (const [key, expected] of cases) expect(murmur3(Buffer.from(key))).toBe(expected);
  });
});

describe('bucketOf', () => {
  it('is the unsigned hash over 2^32, in [0, 1)', () => {
    expect(bucketOf(Buffer.from('acct-000001'))).toBe(2952617479 / 2 ** 32);
    const buckets = bucketsOf(KEYS);
    expect(Math.min(...buckets)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...buckets)).toBeLessThan(1);
  });

  it('is sticky: the same key gets the same bucket across calls, from another Buffer, in a fresh module', async () => {
    const first = bucketsOf(KEYS);
    const copies = KEYS.map(({ key }) => ({ key: Buffer.from(key.toString()) }));
    expect(bucketsOf(copies)).toEqual(first);
    expect(bucketsOf(KEYS)).toEqual(first);

    vi.resetModules();
    const fresh = await import('../../src/deployments/split.js');
    expect(fresh.bucketOf).not.toBe(bucketOf);
    expect(KEYS.map(({ key }) => fresh.bucketOf(key))).toEqual([...first]);
  });

  it('puts a null key above every slice', () => {
    expect(bucketOf(null)).toBe(NULL_KEY_BUCKET);
    expect(bucketOf(Buffer.alloc(0))).toBe(0); // an empty key is a key, as Kafka's partitioner treats it
  });
});

describe('compileSplit', () => {
  it('gives a 10% canary 10% of 20,000 keys, within 1.5 points', () => {
    const split = compileSplit([challenger('canary', 'canary', 0.1)]);
    const deciders = new Int32Array(KEYS.length);
    split.decidersInto(bucketsOf(KEYS), KEYS.length, deciders);
    const canaryShare = deciders.filter((decider) => decider === 0).length / KEYS.length;
    expect(Math.abs(canaryShare - 0.1)).toBeLessThan(0.015);
    expect(deciders.every((decider) => decider === 0 || decider === CHAMPION)).toBe(true);
  });

  it.each([3, 6, 12])(
    "splits each of %i Kafka partitions like the whole topic: the bucket is independent of murmur2's partition",
    (partitions) => {
      const split = compileSplit([challenger('canary', 'canary', 0.1)]);
      const buckets = bucketsOf(KEYS);
      const keys = new Array<number>(partitions).fill(0);
      const canaried = new Array<number>(partitions).fill(0);
      for (const [index, partition] of kafkaPartitions(partitions).entries()) {
        keys[partition]! += 1;
        if (split.deciderOf(buckets[index]!) === 0) canaried[partition]! += 1;
      }
      const shares = canaried.map((count, partition) => count / keys[partition]!);
      console.log(`${partitions} partitions: canary share per partition ${shares.map((s) => s.toFixed(4))}`);
      for (const share of shares) expect(Math.abs(share - 0.1)).toBeLessThan(0.025);
    },
  );

  it('lays canaries from the top, disjoint, and shadows from 0, nested; a key can be both', () => {
    const split = compileSplit([
      challenger('wide-shadow', 'shadow', 0.95),
      challenger('first', 'canary', 0.1),
      challenger('narrow-shadow', 'shadow', 0.05),
      challenger('second', 'canary', 0.2),
    ]);
    expect(split.canaries.map(({ from, to }) => [from, to])).toEqual([
      [0.9, 1],
      [0.7, 0.9],
    ]);
    expect(split.shadows.map(({ challenger, to }) => [challenger.variant, to])).toEqual([
      ['wide-shadow', 0.95],
      ['narrow-shadow', 0.05],
    ]);

    const buckets = bucketsOf(KEYS);
    const rows = new Uint32Array(KEYS.length);
    const deciders = new Int32Array(KEYS.length);
    split.decidersInto(buckets, KEYS.length, deciders);
    for (const [index, share] of [0.1, 0.2].entries()) {
      const decided = deciders.filter((decider) => decider === index).length / KEYS.length;
      expect(Math.abs(decided - share)).toBeLessThan(0.015);
    }
    const wide = new Set(rows.subarray(0, rowsInSlice(split.shadows[0]!, buckets, KEYS.length, rows)));
    const narrow = [...rows.subarray(0, rowsInSlice(split.shadows[1]!, buckets, KEYS.length, rows))];
    expect(Math.abs(narrow.length / KEYS.length - 0.05)).toBeLessThan(0.015);
    expect(narrow.every((row) => wide.has(row))).toBe(true);
    expect(narrow.every((row) => deciders[row] === CHAMPION)).toBe(true);
    const shadowedAndCanaried = [...wide].filter((row) => deciders[row] === 0).length;
    expect(shadowedAndCanaried).toBeGreaterThan(0);
  });

  it('keeps every key a canary decided when its share grows', () => {
    const buckets = bucketsOf(KEYS);
    const decidedBy = (share: number) => {
      const split = compileSplit([challenger('canary', 'canary', share)]);
      return KEYS.flatMap((_, row) => (split.deciderOf(buckets[row]!) === 0 ? [row] : []));
    };
    const grown = new Set(decidedBy(0.2));
    const before = decidedBy(0.1);
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((row) => grown.has(row))).toBe(true);
  });

  it('leaves records with a null key to the champion and out of every shadow, whatever the shares', () => {
    const split = compileSplit([challenger('everyone', 'shadow', 1), challenger('canary', 'canary', 1)]);
    const records = [{ key: Buffer.from('acct-000001') }, { key: null }];
    const buckets = bucketsOf(records);
    const deciders = new Int32Array(records.length);
    split.decidersInto(buckets, records.length, deciders);
    expect([...deciders]).toEqual([0, CHAMPION]);
    const rows = new Uint32Array(records.length);
    expect(rowsInSlice(split.shadows[0]!, buckets, records.length, rows)).toBe(1);
    expect(rows[0]).toBe(0);
  });

  it('refuses canary shares adding up to more than 1, and shares outside 0 to 1', () => {
    expect(() => compileSplit([challenger('a', 'canary', 0.6), challenger('b', 'canary', 0.5)])).toThrowError(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('1.1') }),
    );
    expect(() => compileSplit([challenger('a', 'shadow', 1.5)])).toThrowError(/share 1.5, not 0 to 1/);
    expect(
      compileSplit([
        challenger('a', 'canary', 0.1),
        challenger('b', 'canary', 0.2),
        challenger('c', 'canary', 0.7),
      ]).canaries.length,
    ).toBe(3);
  });
});

describe('cost per record', () => {
  it('prints ns/record of bucketsInto and decidersInto (not asserted)', () => {
    const records = [...KEYS, ...KEYS, ...KEYS, ...KEYS, ...KEYS];
    const buckets = new Float64Array(records.length);
    const deciders = new Int32Array(records.length);
    const split = compileSplit([challenger('a', 'canary', 0.1), challenger('b', 'canary', 0.1)]);
    const passes = 20;
    for (let pass = 0; pass < 3; pass++) bucketsInto(records, buckets); // warm up the JIT
    let started = process.hrtime.bigint();
    for (let pass = 0; pass < passes; pass++) bucketsInto(records, buckets);
    const hashNs = Number(process.hrtime.bigint() - started) / (passes * records.length);
    started = process.hrtime.bigint();
    for (let pass = 0; pass < passes; pass++) split.decidersInto(buckets, records.length, deciders);
    const decideNs = Number(process.hrtime.bigint() - started) / (passes * records.length);
    console.log(
      `bucketsInto ${hashNs.toFixed(1)} ns/record (11-byte keys), decidersInto ${decideNs.toFixed(1)} ns/record (2 canaries)`,
    );
    expect(buckets[records.length - 1]).toBe(bucketOf(KEYS.at(-1)!.key));
    expect(deciders[0]).toBe(split.deciderOf(buckets[0]!));
  });
});
