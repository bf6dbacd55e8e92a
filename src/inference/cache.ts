/**
 * The prediction cache: the score a model version gave an exact feature row. A hit is the score a miss
 * would compute, never one from another version or another row: entries are found by a hash of the version
 * and the row's bits, and hold those bits, which every lookup compares in full. Hashing to a small integer
 * instead of building a string key per row keeps a lookup free of allocation, so a stream that never
 * repeats pays one hash and one map probe per row. Storing allocates nothing per row either: the bits and
 * scores live in flat arrays, and lru-cache holds only the number of an entry's slot in them.
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
  /** Remembers the score of each row in `rowIndexes`: `scores[row]`, scores being by row of `features`. */
  store(
    version: string,
    features: FeatureRows,
    rowIndexes: readonly number[],
    width: number,
    scores: Float32Array,
  ): void;
  readonly size: number;
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

/** The rows' bits as 32-bit words: one word per float32 feature, two per float64 feature. */
const rowBits = (features: FeatureRows) =>
  new Uint32Array(features.buffer, features.byteOffset, features.byteLength / 4);

const wordsPerRow = (features: FeatureRows, width: number) => (width * features.BYTES_PER_ELEMENT) / 4;

/** Slots the arrays start with; they double as entries arrive, up to maxEntries + 1. */
const INITIAL_SLOTS = 1_024;

/**
 * Entries in numbered slots of flat arrays: a slot's version, row bits and score. lru-cache maps a row's
 * hash to its slot and decides what is forgotten; it tells which slot is free again by disposing of it.
 * One slot more than maxEntries: a new entry's slot is taken before lru-cache evicts the entry it replaces.
 */
class EntrySlots {
  readonly versions: (string | undefined)[] = [];
  scores = new Float32Array(0);
  /** Words of each slot's row (versions of different models have different widths). */
  wordCounts = new Uint32Array(0);
  bits = new Uint32Array(0);
  /** Words per slot in `bits`: the widest row stored so far. */
  stride = 0;
  #capacity = 0;
  #fresh = 0;
  readonly #free: number[] = [];

  constructor(private readonly maxSlots: number) {}

  /** A free slot able to hold `words` words. */
  take(words: number): number {
    const slot = this.#free.pop() ?? this.#fresh++;
    if (slot >= this.#capacity || words > this.stride) this.#grow(slot, words);
    return slot;
  }

  release(slot: number): void {
    this.versions[slot] = undefined;
    this.#free.push(slot);
  }

  put(slot: number, version: string, bits: Uint32Array, start: number, words: number, score: number): void {
    this.versions[slot] = version;
    this.wordCounts[slot] = words;
    this.scores[slot] = score;
    const own = this.bits;
    const first = slot * this.stride;
    for (let index = 0; index < words; index++) own[first + index] = bits[start + index]!;
  }

  holds(slot: number, version: string, bits: Uint32Array, start: number, words: number): boolean {
    if (this.versions[slot] !== version || this.wordCounts[slot] !== words) return false;
    const own = this.bits;
    const first = slot * this.stride;
    for (let index = 0; index < words; index++) if (own[first + index] !== bits[start + index]) return false;
    return true;
  }

  #grow(slot: number, words: number): void {
    const capacity =
      slot < this.#capacity
        ? this.#capacity
        : Math.min(this.maxSlots, Math.max(INITIAL_SLOTS, this.#capacity * 2));
    const stride = Math.max(words, this.stride);
    const bits = new Uint32Array(capacity * stride);
    if (stride === this.stride) bits.set(this.bits);
    else
      for (let held = 0; held < this.#capacity; held++)
        bits.set(this.bits.subarray(held * this.stride, (held + 1) * this.stride), held * stride);
    const scores = new Float32Array(capacity);
    scores.set(this.scores);
    const wordCounts = new Uint32Array(capacity);
    wordCounts.set(this.wordCounts);
    this.bits = bits;
    this.scores = scores;
    this.wordCounts = wordCounts;
    this.stride = stride;
    this.#capacity = capacity;
  }
}

export function createPredictionCache(options: CacheOptions): PredictionCache {
  const slots = new EntrySlots(options.maxEntries + 1);
  const cache = new LRUCache<number, number>({
    max: options.maxEntries,
    ttl: options.ttlMs,
    ttlAutopurge: false,
    // Evicted, expired or replaced by a row with the same hash: the slot holds nothing any more.
    dispose: (slot) => slots.release(slot),
  });
  return {
    lookup(version, features, rows, width, scores) {
      const bits = rowBits(features);
      const words = wordsPerRow(features, width);
      const seed = hashVersion(version);
      const misses: number[] = [];
      for (let row = 0; row < rows; row++) {
        const start = row * words;
        const slot = cache.get(hashRow(seed, bits, start, words));
        if (slot !== undefined && slots.holds(slot, version, bits, start, words))
          scores[row] = slots.scores[slot]!;
        else misses.push(row);
      }
      return misses;
    },
    store(version, features, rowIndexes, width, scores) {
      const bits = rowBits(features);
      const words = wordsPerRow(features, width);
      const seed = hashVersion(version);
      for (let index = 0; index < rowIndexes.length; index++) {
        const row = rowIndexes[index]!;
        const start = row * words;
        const slot = slots.take(words);
        slots.put(slot, version, bits, start, words, scores[row]!);
        // Two rows with one hash share an entry: the newer replaces the older, which is then a miss again.
        cache.set(hashRow(seed, bits, start, words), slot);
      }
    },
    get size() {
      return cache.size;
    },
  };
}
