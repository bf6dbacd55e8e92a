/**
 * A manifest's training bins for one feature or the score (BaselineBins), compiled for counting served
 * values: a binary search over the edges, or an equality lookup over the values with one extra "unseen"
 * bin for a value training never had. Counting a batch's column allocates nothing.
 */
import type { BaselineBins } from '../models/index.js';

export const UNSEEN_LABEL = 'unseen';

export interface CompiledBins {
  /** Bins a window counts: the baseline's, plus the unseen bin for `values`. */
  readonly binCount: number;
  /** Training share of each bin; the unseen bin's is 0 (PSI reads it as its empty-bin share). */
  readonly expected: Float64Array;
  /** Each bin for a report: "< 1.2", "[1.2, 3.4)", ">= 9", "= 1", "unseen". */
  readonly labels: readonly string[];
  /** The bin `value` falls in. */
  binOf(value: number): number;
  /**
   * Adds one to `counts[bin]` for column `column` of each of the first `count` rows of `rows`
   * (row-major, `width` values a row).
   */
  countColumn(
    rows: ArrayLike<number>,
    width: number,
    column: number,
    count: number,
    counts: Float64Array,
  ): void;
}

export function compileBins(bins: BaselineBins): CompiledBins {
  if (bins.edges !== undefined) return new EdgeBins(bins.edges, bins.proportions);
  if (bins.values !== undefined) return new ValueBins(bins.values, bins.proportions);
  // The manifest schema refuses bins with neither.
  throw new RangeError('compileBins: bins have neither edges nor values');
}

/** k − 1 increasing interior edges for k bins: bin i holds edges[i−1] ≤ x < edges[i]. */
class EdgeBins implements CompiledBins {
  readonly binCount: number;
  readonly expected: Float64Array;
  readonly labels: readonly string[];
  private readonly edges: Float64Array;

  constructor(edges: readonly number[], proportions: readonly number[]) {
    this.edges = Float64Array.from(edges);
    this.binCount = edges.length + 1;
    this.expected = Float64Array.from(proportions);
    const last = edges.length - 1;
    this.labels = Array.from({ length: this.binCount }, (_, bin) => {
      if (bin === 0) return `< ${edges[0]}`;
      if (bin > last) return `>= ${edges[last]}`;
      return `[${edges[bin - 1]}, ${edges[bin]})`;
    });
  }

  /** The number of edges at or below `value`: an edge itself opens the bin above it; NaN lands in bin 0. */
  binOf(value: number): number {
    const edges = this.edges;
    let low = 0;
    let high = edges.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (edges[middle]! <= value) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  countColumn(rows: ArrayLike<number>, width: number, column: number, count: number, counts: Float64Array) {
    const end = count * width;
    for (let index = column; index < end; index += width) counts[this.binOf(rows[index]!)]! += 1;
  }
}

/** One bin per value, matched by equality; anything else counts in the unseen bin after them. */
class ValueBins implements CompiledBins {
  readonly binCount: number;
  readonly expected: Float64Array;
  readonly labels: readonly string[];
  /** Sorted, for a binary search, each with the bin it stands for. */
  private readonly keys: Float64Array;
  private readonly keyBins: Int32Array;
  private readonly unseen: number;

  constructor(values: readonly number[], proportions: readonly number[]) {
    this.unseen = values.length;
    this.binCount = values.length + 1;
    this.expected = new Float64Array(this.binCount);
    this.expected.set(proportions);
    this.labels = [...values.map((value) => `= ${value}`), UNSEEN_LABEL];
    const keys = new Map<number, number>();
    values.forEach((value, bin) => {
      if (!keys.has(value)) keys.set(value, bin);
    });
    // A float32 model's rows carry Math.fround(value), which differs from a value like 0.1; the rounded
    // twin counts in the same bin unless it is itself one of the values.
    values.forEach((value, bin) => {
      const rounded = Math.fround(value);
      if (!keys.has(rounded)) keys.set(rounded, bin);
    });
    const sorted = [...keys].sort(([a], [b]) => a - b);
    this.keys = Float64Array.from(sorted, ([key]) => key);
    this.keyBins = Int32Array.from(sorted, ([, bin]) => bin);
  }

  binOf(value: number): number {
    const keys = this.keys;
    let low = 0;
    let high = keys.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (keys[middle]! < value) low = middle + 1;
      else high = middle;
    }
    return low < keys.length && keys[low] === value ? this.keyBins[low]! : this.unseen;
  }

  // EdgeBins' loop, repeated so that each class's loop calls one binOf (monomorphic, inlined).
  countColumn(rows: ArrayLike<number>, width: number, column: number, count: number, counts: Float64Array) {
    const end = count * width;
    for (let index = column; index < end; index += width) counts[this.binOf(rows[index]!)]! += 1;
  }
}
