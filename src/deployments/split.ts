/**
 * Which challengers a record goes to, decided by its key alone: a card is always in or always out of a
 * challenger's share ("sticky"), on every instance and after every restart, whichever partition or batch
 * carries it. Each key gets a bucket in [0, 1) from a hash of its bytes; a challenger's share is a slice of
 * that interval.
 *
 * - A shadow of share s scores the keys whose bucket is below s, so shadows of different shares nest.
 * - Canaries get disjoint slices laid from the top of the interval down, in the order they are listed; a
 *   key whose bucket falls in none of them is decided by the champion. Laid from the top, they meet the
 *   shadows' slices only when shadow and canary shares add up to more than 1, so a shadow is compared with
 *   the champion wherever the shares allow; ramping one canary up keeps every key it already decided.
 * - A record with a null key is decided by the champion and scored by no shadow: it has no identity to be
 *   sticky to (producers spread keyless records over partitions round-robin or in sticky batches), and the
 *   champion is the safe choice. So even a canary of share 1 leaves keyless records to the champion;
 *   promotion is how a challenger takes all traffic.
 *
 * The hash is MurmurHash3 (x86, 32-bit, seed 0) of the key's bytes, the bucket its unsigned value / 2^32.
 * Not Kafka's murmur2: the default partitioner places a key by murmur2 of the same bytes, and a split by the
 * same hash could tie a key's bucket to its partition (all keys of one partition in or out of a canary,
 * one instance's keys all canaried). MurmurHash3 mixes the bytes differently and finishes with its own
 * avalanche step, so bucket and partition are independent (test/deployments/split.test.ts measures it). Java
 * tooling reproduces a bucket with Guava's `Hashing.murmur3_32_fixed().hashBytes(key).asInt()` or Apache
 * Commons Codec's `MurmurHash3.hash32x86(key, 0, key.length, 0)` (its one-argument form uses another seed),
 * then `Integer.toUnsignedLong(hash) / 2^32`.
 *
 * Per record, the hash reads the key's bytes in place and allocates nothing; batch-level functions fill
 * typed arrays the caller owns.
 */
import { ConfigurationError } from '../errors/index.js';
import type { Challenger } from './state.js';

/** The bucket of a record with a null key: above every slice, so the champion decides and no shadow scores. */
export const NULL_KEY_BUCKET = 1;

/** What a record's decider is when no canary's slice holds its bucket. */
export const CHAMPION = -1;

const UINT32_RANGE = 2 ** 32;
// A share is a decimal the operator wrote: canary shares adding up to 1 may sum to 1 plus a rounding error.
const SHARE_SUM_TOLERANCE = 1e-9;

/** MurmurHash3 x86 32-bit of `bytes`, as an unsigned 32-bit integer (Appleby's reference, little-endian blocks). */
export function murmur3(bytes: Uint8Array, seed = 0): number {
  const length = bytes.length;
  const blocksEnd = length & ~3;
  let hash = seed | 0;
  for (let offset = 0; offset < blocksEnd; offset += 4) {
    const block =
      bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24);
    hash ^= scrambleBlock(block);
    hash = (hash << 13) | (hash >>> 19);
    hash = (Math.imul(hash, 5) + 0xe6546b64) | 0;
  }
  const tailLength = length & 3;
  if (tailLength > 0) {
    let tail = bytes[blocksEnd]!;
    if (tailLength > 1) tail |= bytes[blocksEnd + 1]! << 8;
    if (tailLength > 2) tail |= bytes[blocksEnd + 2]! << 16;
    hash ^= scrambleBlock(tail);
  }
  hash ^= length;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

function scrambleBlock(block: number): number {
  let scrambled = Math.imul(block, 0xcc9e2d51);
  scrambled = (scrambled << 15) | (scrambled >>> 17);
  return Math.imul(scrambled, 0x1b873593);
}

/** The key's bucket in [0, 1), or NULL_KEY_BUCKET for a null key. */
export function bucketOf(key: Uint8Array | null): number {
  return key === null ? NULL_KEY_BUCKET : murmur3(key) / UINT32_RANGE;
}

/** Anything carrying a record key; streamscore's InputRecord is one. */
export interface KeyedRecord {
  readonly key: Uint8Array | null;
}

/** Writes each record's bucket to `out` at the record's index. */
export function bucketsInto(records: ArrayLike<KeyedRecord>, out: Float64Array): void {
  if (out.length < records.length) {
    throw new RangeError(`bucketsInto: ${records.length} records, room for ${out.length} buckets`);
  }
  for (let index = 0; index < records.length; index++) out[index] = bucketOf(records[index]!.key);
}

/** A challenger's keys: those whose bucket is at least `from` and below `to`. */
export interface Slice<C extends Challenger = Challenger> {
  readonly challenger: C;
  readonly from: number;
  readonly to: number;
}

/** Writes the indices of the rows whose bucket falls in `slice` to `out`; returns how many there are. */
export function rowsInSlice(slice: Slice, buckets: Float64Array, rows: number, out: Uint32Array): number {
  const { from, to } = slice;
  let count = 0;
  for (let row = 0; row < rows; row++) {
    const bucket = buckets[row]!;
    if (bucket >= from && bucket < to) out[count++] = row;
  }
  return count;
}

/** One deployment state's challengers, as slices of the bucket interval. Immutable; build one per state. */
export interface KeySplit<C extends Challenger = Challenger> {
  /** Each shadow's slice, [0, share), in the order the state lists them. */
  readonly shadows: readonly Slice<C>[];
  /** Each canary's slice, disjoint, the first canary's at the top of [0, 1). */
  readonly canaries: readonly Slice<C>[];
  /** The index in `canaries` of the canary deciding a bucket, or CHAMPION. */
  deciderOf(bucket: number): number;
  /** Writes deciderOf(buckets[row]) to out[row] for the first `rows` rows. */
  decidersInto(buckets: Float64Array, rows: number, out: Int32Array): void;
}

export function compileSplit<C extends Challenger>(challengers: readonly C[]): KeySplit<C> {
  for (const { variant, share } of challengers) {
    if (!(share >= 0 && share <= 1)) {
      throw new ConfigurationError('CONFIG_INVALID', `challenger ${variant} has share ${share}, not 0 to 1`);
    }
  }
  const shadows = challengers
    .filter((challenger) => challenger.mode === 'shadow')
    .map((challenger) => Object.freeze({ challenger, from: 0, to: challenger.share }));
  const canaryChallengers = challengers.filter((challenger) => challenger.mode === 'canary');
  const canaryTotal = canaryChallengers.reduce((total, canary) => total + canary.share, 0);
  if (canaryTotal > 1 + SHARE_SUM_TOLERANCE) {
    throw new ConfigurationError(
      'CONFIG_INVALID',
      `canary shares add up to ${canaryTotal} (${canaryChallengers.map((canary) => `${canary.variant} ${canary.share}`).join(', ')}); at most 1`,
    );
  }
  let top = 1;
  const canaries = canaryChallengers.map((challenger) => {
    const slice = Object.freeze({ challenger, from: Math.max(0, top - challenger.share), to: top });
    top = slice.from;
    return slice;
  });

  const deciderOf = (bucket: number): number => {
    for (let index = 0; index < canaries.length; index++) {
      const canary = canaries[index]!;
      if (bucket >= canary.from && bucket < canary.to) return index;
    }
    return CHAMPION;
  };

  return Object.freeze({
    shadows: Object.freeze(shadows),
    canaries: Object.freeze(canaries),
    deciderOf,
    decidersInto(buckets: Float64Array, rows: number, out: Int32Array) {
      for (let row = 0; row < rows; row++) out[row] = deciderOf(buckets[row]!);
    },
  });
}
