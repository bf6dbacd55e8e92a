/**
 * The prediction cache: the score a model version gave an exact feature row. A hit is the score a miss
 * would compute, never one from another version or another row: entries are found by a hash of the version
 * and the row's bits, and hold those bits, which every lookup compares in full.
 *
 * The entries live in flat arrays grouped in buckets of a few slots, as a CPU cache holds lines: a row's
 * hash picks its bucket, and a bucket full of live entries forgets its least recently used one. Nothing is
 * allocated per row, on lookup or on store, and the table never rehashes. A general-purpose LRU (lru-cache,
 * which this replaced) keeps one Map entry per row: a stream that never repeats paid a Map insertion and an
 * eviction per record, 550–710 ns against 260–320 ns now (README, "Prediction cache").
 */
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
  // 30 bits: a small integer V8 keeps unboxed, so neither the lookup nor the stored hash allocates.
  return (hash ^ (hash >>> 16)) & 0x3fffffff;
}

/** The rows' bits as 32-bit words: one word per float32 feature, two per float64 feature. */
const rowBits = (features: FeatureRows) =>
  new Uint32Array(features.buffer, features.byteOffset, features.byteLength / 4);

const wordsPerRow = (features: FeatureRows, width: number) => (width * features.BYTES_PER_ELEMENT) / 4;

/**
 * Slots per bucket. Within a bucket eviction is exact LRU; across buckets it is as good as the hash spreads
 * rows, which for eight ways is close to one LRU over the whole table, at eight tag compares per lookup.
 */
export const CACHE_WAYS = 8;

/**
 * maxEntries slots in buckets of CACHE_WAYS consecutive slots (the last bucket may be shorter). A slot
 * holds a version, the row's hash and bits, its score, when it was stored and when it was last used.
 */
class BucketedSlots {
  readonly #capacity: number;
  readonly #buckets: number;
  readonly #versions: (string | undefined)[];
  readonly #hashes: Int32Array;
  readonly #storedAt: Float64Array;
  readonly #usedAt: Float64Array;
  readonly #wordCounts: Uint32Array;
  readonly scores: Float32Array;
  #bits = new Uint32Array(0);
  /** Words per slot in `#bits`: the widest row stored so far. */
  #stride = 0;
  /** Counts uses, so that within a bucket the smallest `usedAt` is the least recently used. */
  #clock = 0;
  size = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
    this.#buckets = Math.ceil(capacity / CACHE_WAYS);
    this.#versions = new Array<string | undefined>(capacity).fill(undefined);
    this.#hashes = new Int32Array(capacity);
    this.#storedAt = new Float64Array(capacity);
    this.#usedAt = new Float64Array(capacity);
    this.#wordCounts = new Uint32Array(capacity);
    this.scores = new Float32Array(capacity);
  }

  /** The slot holding this row of this version, stored at or after `storedSince`, or -1. */
  find(hash: number, version: string, bits: Uint32Array, start: number, words: number, storedSince: number) {
    const first = this.#firstOf(hash);
    const end = Math.min(first + CACHE_WAYS, this.#capacity);
    for (let slot = first; slot < end; slot++) {
      if (
        this.#hashes[slot] === hash &&
        this.#versions[slot] === version &&
        this.#storedAt[slot]! >= storedSince &&
        this.#holds(slot, bits, start, words)
      ) {
        this.#usedAt[slot] = ++this.#clock;
        return slot;
      }
    }
    return -1;
  }

  /** Stores the row in its bucket: over its own older entry, else in a free or expired slot, else the LRU one. */
  put(
    hash: number,
    version: string,
    bits: Uint32Array,
    start: number,
    words: number,
    score: number,
    now: number,
    storedSince: number,
  ): void {
    const first = this.#firstOf(hash);
    const end = Math.min(first + CACHE_WAYS, this.#capacity);
    let chosen = first;
    for (let slot = first; slot < end; slot++) {
      const held = this.#versions[slot];
      if (held === undefined || this.#storedAt[slot]! < storedSince) {
        chosen = slot;
        break;
      }
      if (this.#hashes[slot] === hash && held === version && this.#holds(slot, bits, start, words)) {
        chosen = slot;
        break;
      }
      if (this.#usedAt[slot]! < this.#usedAt[chosen]!) chosen = slot;
    }
    if (this.#versions[chosen] === undefined) this.size++;
    if (words > this.#stride) this.#widen(words);
    this.#versions[chosen] = version;
    this.#hashes[chosen] = hash;
    this.#wordCounts[chosen] = words;
    this.#storedAt[chosen] = now;
    this.#usedAt[chosen] = ++this.#clock;
    this.scores[chosen] = score;
    const own = this.#bits;
    const offset = chosen * this.#stride;
    for (let index = 0; index < words; index++) own[offset + index] = bits[start + index]!;
  }

  #firstOf(hash: number): number {
    return (hash % this.#buckets) * CACHE_WAYS;
  }

  #holds(slot: number, bits: Uint32Array, start: number, words: number): boolean {
    if (this.#wordCounts[slot] !== words) return false;
    const own = this.#bits;
    const offset = slot * this.#stride;
    for (let index = 0; index < words; index++) if (own[offset + index] !== bits[start + index]) return false;
    return true;
  }

  /** Room for wider rows (a model with more features arrived): every slot keeps its own words. */
  #widen(words: number): void {
    const bits = new Uint32Array(this.#capacity * words);
    const old = this.#bits;
    const stride = this.#stride;
    for (let slot = 0; slot < this.#capacity && stride > 0; slot++)
      for (let index = 0; index < stride; index++) bits[slot * words + index] = old[slot * stride + index]!;
    this.#bits = bits;
    this.#stride = words;
  }
}

export function createPredictionCache(options: CacheOptions): PredictionCache {
  const slots = new BucketedSlots(options.maxEntries);
  // One clock reading per call: the rows of one batch are stored, and expire, together.
  const storedSince = (now: number) => now - options.ttlMs;
  return {
    lookup(version, features, rows, width, scores) {
      const bits = rowBits(features);
      const words = wordsPerRow(features, width);
      const seed = hashVersion(version);
      const since = storedSince(performance.now());
      const misses: number[] = [];
      for (let row = 0; row < rows; row++) {
        const start = row * words;
        const slot = slots.find(hashRow(seed, bits, start, words), version, bits, start, words, since);
        if (slot >= 0) scores[row] = slots.scores[slot]!;
        else misses.push(row);
      }
      return misses;
    },
    store(version, features, rowIndexes, width, scores) {
      const bits = rowBits(features);
      const words = wordsPerRow(features, width);
      const seed = hashVersion(version);
      const now = performance.now();
      const since = storedSince(now);
      for (let index = 0; index < rowIndexes.length; index++) {
        const row = rowIndexes[index]!;
        const start = row * words;
        slots.put(hashRow(seed, bits, start, words), version, bits, start, words, scores[row]!, now, since);
      }
    },
    get size() {
      return slots.size;
    },
  };
}
