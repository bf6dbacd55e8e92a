/**
 * streamscore's partitioner must place every record where kafkajs's DefaultPartitioner does, and so where a
 * Java producer does: same murmur2, same keyless round-robin.
 */
import { createRequire } from 'node:module';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createPartitioner, murmur2 } from '../../src/kafka/partitioner.js';
import { type Random, seededRandom } from '../../src/sample/random.js';

const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (
  key: Buffer | string,
) => number;

type Key = Buffer | string;

const randomBytes = (random: Random, length: number): Buffer =>
  Buffer.from(Array.from({ length }, () => random.int(256)));

// One, two, three and four UTF-8 bytes per code point, and now and then a lone surrogate (encoded as U+FFFD).
function randomCodePoint(random: Random): number {
  const kind = random.int(20);
  if (kind < 8) return 0x20 + random.int(0x5f);
  if (kind < 11) return 0x80 + random.int(0x780);
  if (kind < 15) {
    const codePoint = 0x800 + random.int(0xf800);
    return codePoint >= 0xd800 && codePoint <= 0xdfff ? codePoint - 0x1000 : codePoint;
  }
  if (kind < 19) return 0x10000 + random.int(0x100000);
  return 0xd800 + random.int(0x800);
}

const randomText = (random: Random, codePoints: number): string =>
  String.fromCodePoint(...Array.from({ length: codePoints }, () => randomCodePoint(random)));

function testKeys(): Key[] {
  const random = seededRandom(20_240_611);
  const keys: Key[] = [];
  for (let length = 0; length <= 64; length++)
    for (let copy = 0; copy < 100; copy++) keys.push(randomBytes(random, length));
  for (let index = 0; index < 7_000; index++) keys.push(randomText(random, random.int(41)));
  // Past the partitioner's scratch buffer (256 UTF-16 units), and exactly at it.
  for (let index = 0; index < 100; index++) keys.push(randomText(random, 200 + random.int(201)));
  keys.push('€'.repeat(256), '€'.repeat(257));
  // Account ids as the sample producer writes them, as strings and as bytes.
  for (let index = 0; index < 7_000; index++) {
    const account = `acct-${String(index).padStart(6, '0')}`;
    keys.push(index % 2 === 0 ? account : Buffer.from(account));
  }
  return keys;
}

const describeKey = (key: Key): string =>
  Buffer.isBuffer(key) ? `bytes ${key.toString('hex')}` : `text ${JSON.stringify(key)}`;

function partitionsOf(count: number, hasLeader: (partitionId: number) => boolean): PartitionMetadata[] {
  return Array.from({ length: count }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: hasLeader(partitionId) ? partitionId % 3 : -1,
    replicas: [0],
    isr: [0],
  }));
}

/** `picks` follow `cycle` one step at a time, from wherever they start. */
function expectRoundRobin(picks: number[], cycle: number[]): void {
  const start = cycle.indexOf(picks[0]!);
  expect(start).toBeGreaterThanOrEqual(0);
  expect(picks).toEqual(picks.map((_, step) => cycle[(start + step) % cycle.length]));
}

const KEYS = testKeys();

describe('murmur2', () => {
  it('gives the values of Apache Kafka UtilsTest.testMurmur2', () => {
    const cases: [Key, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      [Buffer.from('abc'), 479470107],
    ];
    for (const [key, hash] of cases) expect(murmur2(key), describeKey(key)).toBe(hash);
  });

  it(`equals kafkajs's murmur2 bit for bit on ${KEYS.length} keys`, () => {
    expect(KEYS.length).toBeGreaterThanOrEqual(20_000);
    const differing = KEYS.filter((key) => murmur2(key) !== kafkajsMurmur2(key)).map(describeKey);
    expect(differing.slice(0, 5)).toEqual([]);
  });

  it('hashes a key that is neither bytes nor text as String(key), as kafkajs does', () => {
    const numericKey = 1_234_567 as unknown as string;
    expect(murmur2(numericKey)).toBe(kafkajsMurmur2(numericKey));
    expect(murmur2(numericKey)).toBe(murmur2('1234567'));
  });
});

describe('createPartitioner', () => {
  it.each([1, 3, 6, 7, 96])('puts every keyed record where kafkajs does, over %i partitions', (count) => {
    // Some partitions without a leader: a key is placed over all of them regardless, as in Java.
    const partitionMetadata = partitionsOf(count, (partitionId) => partitionId % 3 !== 2);
    const ours = createPartitioner();
    const kafkajs = Partitioners.DefaultPartitioner();
    const differing = KEYS.filter((key) => {
      const args = { topic: 'transactions', partitionMetadata, message: { key, value: null } };
      return ours(args) !== kafkajs(args);
    }).map(describeKey);
    expect(differing.slice(0, 5)).toEqual([]);
  });

  it('takes an explicit partition over the key', () => {
    const partitioner = createPartitioner();
    const partitionMetadata = partitionsOf(6, () => true);
    const key = 'acct-000001';
    const byKey = partitioner({ topic: 't', partitionMetadata, message: { key, value: null } });
    const explicit = (byKey + 1) % 6;
    expect(
      partitioner({ topic: 't', partitionMetadata, message: { key, value: null, partition: explicit } }),
    ).toBe(explicit);
    expect(
      partitioner({ topic: 't', partitionMetadata, message: { key: null, value: null, partition: 0 } }),
    ).toBe(0);
  });

  it('reads no leader for a keyed record: only keyless records look for partitions with a leader', () => {
    let leaderReads = 0;
    const partitionMetadata = partitionsOf(6, () => true).map((partition) => ({
      ...partition,
      get leader() {
        leaderReads++;
        return 0;
      },
    }));
    const partitioner = createPartitioner();
    for (const key of KEYS.slice(0, 100))
      partitioner({ topic: 't', partitionMetadata, message: { key, value: null } });
    expect(leaderReads).toBe(0);
    partitioner({ topic: 't', partitionMetadata, message: { key: null, value: null } });
    expect(leaderReads).toBeGreaterThan(0);
  });

  it('sends keyless records round-robin over the partitions with a leader, in metadata order, as kafkajs', () => {
    const byId = partitionsOf(7, (partitionId) => ![1, 4, 6].includes(partitionId));
    const partitionMetadata = [3, 0, 6, 2, 5, 1, 4].map((partitionId) => byId[partitionId]!);
    for (const partitioner of [createPartitioner(), Partitioners.DefaultPartitioner()]) {
      const picks = Array.from({ length: 12 }, () =>
        partitioner({ topic: 't', partitionMetadata, message: { value: null } }),
      );
      expectRoundRobin(picks, [3, 0, 2, 5]);
    }
  });

  it('keeps one round-robin per topic', () => {
    const partitionMetadata = partitionsOf(4, () => true);
    const partitioner = createPartitioner();
    const picks: Record<string, number[]> = { a: [], b: [] };
    for (let step = 0; step < 12; step++)
      for (const topic of ['a', 'b'])
        picks[topic]!.push(partitioner({ topic, partitionMetadata, message: { key: null, value: null } }));
    expectRoundRobin(picks.a!, [0, 1, 2, 3]);
    expectRoundRobin(picks.b!, [0, 1, 2, 3]);
  });

  it('starts each round-robin at a random partition, as kafkajs does', () => {
    const partitionMetadata = partitionsOf(96, () => true);
    const firstPicks = new Set(
      Array.from({ length: 40 }, () =>
        createPartitioner()({ topic: 't', partitionMetadata, message: { value: null } }),
      ),
    );
    expect(firstPicks.size).toBeGreaterThan(1);
  });

  it('goes round-robin over every partition when none has a leader, as kafkajs', () => {
    const partitionMetadata = partitionsOf(5, () => false);
    for (const partitioner of [createPartitioner(), Partitioners.DefaultPartitioner()]) {
      const picks = Array.from({ length: 12 }, () =>
        partitioner({ topic: 't', partitionMetadata, message: { value: null } }),
      );
      expectRoundRobin(picks, [0, 1, 2, 3, 4]);
    }
  });
});
