/**
 * The producers' partitioner: the partition numbers of kafkajs's DefaultPartitioner (Java's: murmur2 of the
 * key bytes, as Apache Kafka's `Utils.murmur2`), computed in 32-bit integer arithmetic. kafkajs's own runs
 * murmur2 on its emulated 64-bit `Long` and filters the partition metadata into a new array for every
 * message, keyed or not; on a backlog that was about 6% of the main thread.
 */
import { randomInt } from 'node:crypto';
import type { ICustomPartitioner, PartitionerArgs, PartitionMetadata } from 'kafkajs';

const SEED = 0x9747b28c;
const MULTIPLIER = 0x5bd1e995;
const SHIFT = 24;

// A string key is hashed as its UTF-8 bytes; encoding it here instead of with Buffer.from saves a buffer
// per record. A UTF-16 code unit takes at most 3 UTF-8 bytes, so a key of up to this many / 3 units fits.
const SCRATCH_BYTES = 768;
const scratch = Buffer.alloc(SCRATCH_BYTES);

/** Java's `Utils.murmur2` of a key: its bytes, or the UTF-8 bytes of `String(key)` as kafkajs hashes any other key. */
export function murmur2(key: Buffer | string): number {
  if (Buffer.isBuffer(key)) return murmur2Bytes(key, key.length);
  // String() keeps kafkajs's result for callers outside the type system that pass a number or the like.
  const text = String(key);
  if (text.length * 3 > SCRATCH_BYTES) {
    const bytes = Buffer.from(text, 'utf8');
    return murmur2Bytes(bytes, bytes.length);
  }
  return murmur2Bytes(scratch, scratch.write(text, 0, 'utf8'));
}

/** Murmur2 of `bytes[0..length)` with Kafka's seed, as a signed 32-bit integer (Java's int). */
function murmur2Bytes(bytes: Uint8Array, length: number): number {
  let hash = SEED ^ length;
  const blocksEnd = length & ~3;
  for (let offset = 0; offset < blocksEnd; offset += 4) {
    let block =
      bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24);
    block = Math.imul(block, MULTIPLIER);
    block ^= block >>> SHIFT;
    block = Math.imul(block, MULTIPLIER);
    hash = Math.imul(hash, MULTIPLIER) ^ block;
  }
  const tailLength = length & 3;
  if (tailLength > 0) {
    if (tailLength > 2) hash ^= bytes[blocksEnd + 2]! << 16;
    if (tailLength > 1) hash ^= bytes[blocksEnd + 1]! << 8;
    hash ^= bytes[blocksEnd]!;
    hash = Math.imul(hash, MULTIPLIER);
  }
  hash ^= hash >>> 13;
  hash = Math.imul(hash, MULTIPLIER);
  hash ^= hash >>> 15;
  return hash;
}

/** Java's `Utils.toPositive`: drops the sign bit (not the absolute value). */
function toPositive(value: number): number {
  return value & 0x7fffffff;
}

/**
 * kafkajs's default partitioning, partition for partition: an explicit partition wins; a key goes to
 * `toPositive(murmur2(key)) % partitions`; a keyless record goes round-robin, per topic from a random start,
 * over the partitions that have a leader (over all of them when none has).
 */
export const createPartitioner: ICustomPartitioner = () => {
  const counters = new Map<string, number>();

  const nextKeyless = (topic: string, partitionMetadata: PartitionMetadata[]): number => {
    const counter = (counters.get(topic) ?? randomInt(0x1_0000_0000)) + 1;
    counters.set(topic, counter);
    const withLeader = countWithLeader(partitionMetadata);
    if (withLeader === 0) return toPositive(counter) % partitionMetadata.length;
    return idOfPartitionWithLeader(partitionMetadata, toPositive(counter) % withLeader);
  };

  return ({ topic, partitionMetadata, message }: PartitionerArgs): number => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    if (message.key !== null && message.key !== undefined)
      return toPositive(murmur2(message.key)) % partitionMetadata.length;
    return nextKeyless(topic, partitionMetadata);
  };
};

function countWithLeader(partitionMetadata: PartitionMetadata[]): number {
  let count = 0;
  for (const partition of partitionMetadata) if (partition.leader >= 0) count++;
  return count;
}

/** The id of the `rank`-th (from 0, in metadata order) partition with a leader; more than `rank` have one. */
function idOfPartitionWithLeader(partitionMetadata: PartitionMetadata[], rank: number): number {
  let position = -1;
  for (let seen = 0; seen <= rank; seen++) {
    do {
      position++;
    } while (partitionMetadata[position]!.leader < 0);
  }
  return partitionMetadata[position]!.partitionId;
}
