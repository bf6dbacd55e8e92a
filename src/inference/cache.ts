/**
 * The prediction cache: the score a model version gave an exact feature row. A hit is the score a miss
 * would compute, never one from another version or another row: entries are found by a hash of the version
 * and the row's bits, and hold those bits, which every lookup compares in full. Hashing to a small integer
 * instead of building a string key per row keeps a lookup free of allocation, so a stream that never
 * repeats pays one hash and one map probe per row.
 */
import { LRUCache } from 'lru-cache';
import type { FeatureRows } from '../features/index.js';

export interface CacheOptions {
  maxEntries: number;
  ttlMs: number;
}

export interface PredictionCache {
  /**
   * Fills `scores` for the rows it knows and returns the indexes of the rows it does not, in order.
   */
  lookup(version: string, features: FeatureRows, rows: number, width: number, scores: Float32Array): number[];
  store(
    version: string,
    features: FeatureRows,
    rowIndexes: readonly number[],
    width: number,
    scores: Float32Array,
  ): void;
  readonly size: number;
}

interface Entry {
  version: string;
  bits: Uint32Array;
  score: number;
}

const rotateLeft = (value: number, bits: number) => (value << bits) | (value >>> (32 - bits));

/** MurmurHash3 (x86, 32-bit) over whole words: each word is mixed in, so rows of nearby floats spread apart. */
function mixWord(hash: number, word: number): number {
  let mixed = Math.imul(word, 0xcc9e2d51);
  mixed = Math.imul(rotateLeft(mixed, 15), 0x1b873593);
  return (Math.imul(rotateLeft(hash ^ mixed, 13), 5) + 0xe6546b64) | 0;
}

function hashVersion(version: string): number {
  let hash = 0;
  for (let index = 0; index < version.length; index++) hash = mixWord(hash, version.charCodeAt(index));
  return hash;
}

function hashRow(seed: number, bits: Uint32Array, start: number, words: number): number {
  let hash = seed;
  for (let index = start; index < start + words; index++) hash = mixWord(hash, bits[index]!);
  hash ^= words * 4;
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  // 30 bits: a small integer V8 keeps unboxed, so the map probe allocates nothing.
  return (hash ^ (hash >>> 16)) & 0x3fffffff;
}

function holds(entry: Entry, version: string, bits: Uint32Array, start: number): boolean {
  if (entry.version !== version) return false;
  const own = entry.bits;
  for (let index = 0; index < own.length; index++) if (own[index] !== bits[start + index]) return false;
  return true;
}

/** The rows' bits as 32-bit words: one word per float32 feature, two per float64 feature. */
const rowBits = (features: FeatureRows) =>
  new Uint32Array(features.buffer, features.byteOffset, features.byteLength / 4);

const wordsPerRow = (features: FeatureRows, width: number) => (width * features.BYTES_PER_ELEMENT) / 4;

export function createPredictionCache(options: CacheOptions): PredictionCache {
  const cache = new LRUCache<number, Entry>({
    max: options.maxEntries,
    ttl: options.ttlMs,
    ttlAutopurge: false,
  });
  return {
    lookup(version, features, rows, width, scores) {
      const bits = rowBits(features);
      const words = wordsPerRow(features, width);
      const seed = hashVersion(version);
      const misses: number[] = [];
      for (let row = 0; row < rows; row++) {
        const start = row * words;
        const entry = cache.get(hashRow(seed, bits, start, words));
        if (entry !== undefined && holds(entry, version, bits, start)) scores[row] = entry.score;
        else misses.push(row);
      }
      return misses;
    },
    store(version, features, rowIndexes, width, scores) {
      const bits = rowBits(features);
      const words = wordsPerRow(features, width);
      const seed = hashVersion(version);
      for (const [index, row] of rowIndexes.entries()) {
        const start = row * words;
        // Two rows with one hash share a slot: the newer replaces the older, which is then a miss again.
        cache.set(hashRow(seed, bits, start, words), {
          version,
          bits: bits.slice(start, start + words),
          score: scores[index]!,
        });
      }
    },
    get size() {
      return cache.size;
    },
  };
}
