/**
 * The prediction cache: the score a model version gave an exact feature row. Keys carry the version and
 * the row's bytes, so a hit is the score a miss would compute and never one from another version.
 */
import { LRUCache } from 'lru-cache';

export interface CacheOptions {
  maxEntries: number;
  ttlMs: number;
}

export interface PredictionCache {
  /**
   * Fills `scores` for the rows it knows and returns the indexes of the rows it does not, in order.
   */
  lookup(
    version: string,
    features: Float32Array,
    rows: number,
    width: number,
    scores: Float32Array,
  ): number[];
  store(
    version: string,
    features: Float32Array,
    rowIndexes: readonly number[],
    width: number,
    scores: Float32Array,
  ): void;
  readonly size: number;
}

function rowKey(version: string, features: Float32Array, row: number, width: number): string {
  // Two UTF-16 code units per float32: the row's exact bits, cheaper to hash than a hex or base64 form.
  const bits = new Uint16Array(features.buffer, features.byteOffset + row * width * 4, width * 2);
  return version + String.fromCharCode(...bits);
}

export function createPredictionCache(options: CacheOptions): PredictionCache {
  const cache = new LRUCache<string, number>({
    max: options.maxEntries,
    ttl: options.ttlMs,
    ttlAutopurge: false,
  });
  return {
    lookup(version, features, rows, width, scores) {
      const misses: number[] = [];
      for (let row = 0; row < rows; row++) {
        const hit = cache.get(rowKey(version, features, row, width));
        if (hit === undefined) misses.push(row);
        else scores[row] = hit;
      }
      return misses;
    },
    store(version, features, rowIndexes, width, scores) {
      for (const [index, row] of rowIndexes.entries())
        cache.set(rowKey(version, features, row, width), scores[index]!);
    },
    get size() {
      return cache.size;
    },
  };
}
