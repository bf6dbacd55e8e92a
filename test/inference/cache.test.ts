import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CACHE_WAYS, createPredictionCache } from '../../src/inference/index.js';

const WIDTH = 3;
const range = (length: number) => Array.from({ length }, (_, index) => index);

function rowsOf(...rows: number[][]): Float32Array {
  return Float32Array.from(rows.flat());
}

describe('prediction cache', () => {
  const options = { maxEntries: 1_000, ttlMs: 60_000 };

  it('returns the stored score for the exact row and version, and a miss otherwise', () => {
    const cache = createPredictionCache(options);
    const features = rowsOf([1, 2, 3], [4, 5, 6]);
    cache.store('1', features, [0, 1], WIDTH, Float32Array.from([0.25, 0.75]));

    const probe = rowsOf([4, 5, 6], [1, 2, 3.0000002], [1, 2, 3]);
    const scores = new Float32Array(3);
    expect(cache.lookup('1', probe, 3, WIDTH, scores)).toEqual([1]);
    expect([scores[0], scores[2]]).toEqual([0.75, 0.25]);
    expect(cache.lookup('2', probe, 3, WIDTH, new Float32Array(3))).toEqual([0, 1, 2]);
  });

  it('tells rows apart by their bits: 0 and -0 are different rows', () => {
    const cache = createPredictionCache(options);
    cache.store('1', rowsOf([0, 1, 1]), [0], WIDTH, Float32Array.from([0.5]));
    expect(cache.lookup('1', rowsOf([-0, 1, 1]), 1, WIDTH, new Float32Array(1))).toEqual([0]);
  });

  it('reads rows inside a larger buffer at an offset', () => {
    const cache = createPredictionCache(options);
    const backing = new Float32Array(10);
    backing.set([7, 8, 9, 1, 2, 3], 4);
    const view = backing.subarray(4, 10);
    cache.store('1', view, [1], WIDTH, Float32Array.from([0.5, 0.125]));
    const scores = new Float32Array(1);
    expect(cache.lookup('1', rowsOf([1, 2, 3]), 1, WIDTH, scores)).toEqual([]);
    expect(scores[0]).toBe(0.125);
  });

  it('tells float64 rows apart by all their bits, also those a float32 would round away', () => {
    const cache = createPredictionCache(options);
    const backing = new Float64Array(8);
    backing.set([0.1, 2, 3, 0.1 + 2 ** -40, 2, 3], 2);
    cache.store('1', backing.subarray(2), [0, 1], WIDTH, Float32Array.from([0.25, 0.75]));
    const scores = new Float32Array(3);
    const probe = Float64Array.from([0.1 + 2 ** -40, 2, 3, 0.1, 2, 3, 0.1 + 2 ** -41, 2, 3]);
    expect(cache.lookup('1', probe, 3, WIDTH, scores)).toEqual([2]);
    expect([scores[0], scores[1]]).toEqual([0.75, 0.25]);
  });

  it('forgets the least recently used row of a full bucket, a looked-up row counting as used', () => {
    // One bucket: the whole cache is one LRU.
    const cache = createPredictionCache({ maxEntries: CACHE_WAYS, ttlMs: 60_000 });
    const rows = Array.from({ length: CACHE_WAYS + 1 }, (_, index) => [index, 1, 2]);
    const scoresOf = Float32Array.from(rows, (_, index) => index / 16);
    cache.store('1', rowsOf(...rows.slice(0, CACHE_WAYS)), range(CACHE_WAYS), WIDTH, scoresOf);
    expect(cache.lookup('1', rowsOf(rows[0]!), 1, WIDTH, new Float32Array(1))).toEqual([]);
    cache.store('1', rowsOf(rows[CACHE_WAYS]!), [0], WIDTH, scoresOf.subarray(CACHE_WAYS));

    expect(cache.size).toBe(CACHE_WAYS);
    const scores = new Float32Array(rows.length);
    expect(cache.lookup('1', rowsOf(...rows), rows.length, WIDTH, scores)).toEqual([1]);
    for (const index of range(rows.length).filter((index) => index !== 1))
      expect(scores[index]).toBe(index / 16);
  });

  it('keeps at most maxEntries rows, and always the latest ones stored', () => {
    const cache = createPredictionCache({ maxEntries: 100, ttlMs: 60_000 });
    let latest: number[][] = [];
    for (let round = 0; round < 20; round++) {
      latest = Array.from({ length: 150 }, (_, index) => [round, index, index / 3]);
      const scores = Float32Array.from(latest, (_, index) => (round * 150 + index) / 4_096);
      cache.store('1', rowsOf(...latest), range(150), WIDTH, scores);
      expect(cache.size).toBeLessThanOrEqual(100);
    }
    const scores = new Float32Array(150);
    const misses = cache.lookup('1', rowsOf(...latest), 150, WIDTH, scores);
    // No bucket has seen CACHE_WAYS rows stored after any of the last CACHE_WAYS.
    for (const index of range(150).slice(-CACHE_WAYS)) expect(misses).not.toContain(index);
    // Buckets share 150 rows among 100 slots: most of the room holds the latest round.
    expect(150 - misses.length).toBeGreaterThan(75);
    for (const index of range(150).filter((index) => !misses.includes(index)))
      expect(scores[index]).toBe((19 * 150 + index) / 4_096);
  });

  it('stops answering a row once it is older than ttlMs', async () => {
    const cache = createPredictionCache({ maxEntries: 100, ttlMs: 30 });
    cache.store('1', rowsOf([1, 2, 3]), [0], WIDTH, Float32Array.from([0.5]));
    expect(cache.lookup('1', rowsOf([1, 2, 3]), 1, WIDTH, new Float32Array(1))).toEqual([]);
    await sleep(60);
    expect(cache.lookup('1', rowsOf([1, 2, 3]), 1, WIDTH, new Float32Array(1))).toEqual([0]);
    cache.store('1', rowsOf([1, 2, 3]), [0], WIDTH, Float32Array.from([0.25]));
    const scores = new Float32Array(1);
    expect(cache.lookup('1', rowsOf([1, 2, 3]), 1, WIDTH, scores)).toEqual([]);
    expect(scores[0]).toBe(0.25);
    expect(cache.size).toBe(1);
  });

  it('keeps rows of different widths apart and intact when a wider model arrives', () => {
    const cache = createPredictionCache(options);
    cache.store('narrow', Float32Array.from([1, 2, 3, 4]), [0, 1], 2, Float32Array.from([0.25, 0.5]));
    const wide = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    cache.store('wide', wide, [0, 1], 5, Float32Array.from([0.75, 0.125]));

    const narrowScores = new Float32Array(2);
    expect(cache.lookup('narrow', Float32Array.from([3, 4, 1, 2]), 2, 2, narrowScores)).toEqual([]);
    expect([...narrowScores]).toEqual([0.5, 0.25]);
    const wideScores = new Float32Array(2);
    expect(cache.lookup('wide', wide, 2, 5, wideScores)).toEqual([]);
    expect([...wideScores]).toEqual([0.75, 0.125]);
    expect(cache.lookup('wide', Float64Array.from([1, 2, 3, 4, 6]), 1, 5, new Float32Array(1))).toEqual([0]);
  });

  it('never answers a row it was not given, over many distinct rows', () => {
    const cache = createPredictionCache({ maxEntries: 50_000, ttlMs: 60_000 });
    const stored = Array.from({ length: 20_000 }, (_, index) => [index % 97, Math.fround(index / 3), index]);
    cache.store(
      '1',
      rowsOf(...stored),
      stored.map((_, index) => index),
      WIDTH,
      Float32Array.from(stored, (_, index) => index / 20_000),
    );
    const others = stored.map(([a, b, c]) => [a!, b!, c! + 0.5]);
    expect(
      cache.lookup('1', rowsOf(...others), others.length, WIDTH, new Float32Array(others.length)),
    ).toHaveLength(others.length);
    const scores = new Float32Array(stored.length);
    const misses = cache.lookup('1', rowsOf(...stored), stored.length, WIDTH, scores);
    const hits = stored.length - misses.length;
    // A bucket given more than CACHE_WAYS of the rows forgets its oldest even while others have room: at 40%
    // full, a fraction of a percent.
    expect(hits).toBeGreaterThan(stored.length * 0.99);
    for (let index = 0; index < stored.length; index++)
      if (!misses.includes(index)) expect(scores[index]).toBe(Math.fround(index / 20_000));
  });
});
