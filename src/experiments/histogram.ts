/**
 * A fixed-bucket histogram of non-negative values on a logarithmic scale, with the exact maximum beside
 * it. Adding is one log10 and one increment; memory is fixed whatever the count, so a time window holds one
 * per slice and merges them when read.
 */

export interface LogBuckets {
  /** Values at or below it share the first bucket. */
  lowest: number;
  /** Decades covered above `lowest`; larger values share an overflow bucket. */
  decades: number;
  /** Buckets per decade: each bucket's upper bound is 10^(1/stepsPerDecade) times the previous one. */
  stepsPerDecade: number;
}

export class LogHistogram {
  readonly counts: Float64Array;
  total = 0;
  max = 0;
  private readonly topIndex: number;
  /** Upper bound of each bucket but the overflow. */
  private readonly bounds: Float64Array;

  constructor(readonly buckets: LogBuckets) {
    this.topIndex = buckets.decades * buckets.stepsPerDecade;
    // One bucket per step, the first (at or below `lowest`) and the overflow.
    this.counts = new Float64Array(this.topIndex + 2);
    this.bounds = new Float64Array(this.topIndex + 1);
    for (let index = 0; index <= this.topIndex; index++) {
      this.bounds[index] = buckets.lowest * 10 ** (index / buckets.stepsPerDecade);
    }
  }

  add(value: number, weight = 1): void {
    const magnitude = Math.abs(value);
    this.counts[this.indexOf(magnitude)]! += weight;
    this.total += weight;
    if (magnitude > this.max) this.max = magnitude;
  }

  /**
   * The nearest-rank quantile (the smallest value at least a share q of the values are at or below),
   * reported as its bucket's upper bound capped at the maximum: never below the true value and at most one
   * bucket above it. Null when empty.
   */
  quantile(q: number): number | null {
    if (this.total === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let index = 0; index < this.counts.length; index++) {
      seen += this.counts[index]!;
      if (seen >= rank) return Math.min(this.upperBound(index), this.max);
    }
    return this.max;
  }

  merge(other: LogHistogram): void {
    for (let index = 0; index < this.counts.length; index++) this.counts[index]! += other.counts[index]!;
    this.total += other.total;
    if (other.max > this.max) this.max = other.max;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.max = 0;
  }

  private indexOf(magnitude: number): number {
    const { lowest, stepsPerDecade } = this.buckets;
    if (!(magnitude > lowest)) return 0;
    let index = Math.ceil(Math.log10(magnitude / lowest) * stepsPerDecade);
    // The logarithm can land a value at a bucket's bound one bucket off; the bounds settle it.
    if (index > 0 && this.upperBound(index - 1) >= magnitude) index -= 1;
    else if (index <= this.topIndex && this.upperBound(index) < magnitude) index += 1;
    return Math.min(index, this.topIndex + 1);
  }

  private upperBound(index: number): number {
    return this.bounds[index] ?? Number.POSITIVE_INFINITY;
  }
}
