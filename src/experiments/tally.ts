/**
 * The counts behind one champion/challenger pair's figures over one span of time (a window slice, or
 * everything since start): fixed-size, so adding a row allocates nothing, and mergeable, so a window is
 * the sum of its slices.
 */
import { ScoringStatus } from '../routing/index.js';
import { type LogBuckets, LogHistogram } from './histogram.js';
import { PSI_BINS, populationStabilityIndex, psiBin } from './psi.js';

/** |challenger − champion| from 1e-6 (closer counts as equal) to 1, in steps of 12%. */
const SCORE_DIFFERENCE_BUCKETS: LogBuckets = { lowest: 1e-6, decades: 6, stepsPerDecade: 20 };
/** Inference latency from 10 µs to 100 s, in steps of 12%. */
const LATENCY_MS_BUCKETS: LogBuckets = { lowest: 0.01, decades: 7, stepsPerDecade: 20 };
const STATUS_COUNT = 4;

export interface Figures {
  /** Comparisons: events the challenger was given. */
  compared: number;
  /** Events both models scored (status OK): agreement, flips, differences and PSI are over these. */
  comparable: number;
  /** Share of comparable events both decided alike; null when none were comparable. */
  agreementRate: number | null;
  flips: { challengerOnlyPositive: number; championOnlyPositive: number };
  /** |challenger − champion| score; quantiles to within 12% above (one histogram bucket), max exact. */
  absScoreDifference: { p50: number; p90: number; p99: number; max: number } | null;
  challengerStatus: { ok: number; timeout: number; error: number; shed: number };
  /** Over the events the challenger scored; to within 12% above. */
  challengerLatencyMs: { p50: number; p99: number } | null;
  /** Challenger scores against champion scores over the comparable events. */
  psi: number | null;
}

export class Tally {
  compared = 0;
  comparable = 0;
  agreed = 0;
  challengerOnlyPositive = 0;
  championOnlyPositive = 0;
  readonly challengerStatuses = new Float64Array(STATUS_COUNT);
  readonly absScoreDifference = new LogHistogram(SCORE_DIFFERENCE_BUCKETS);
  readonly challengerLatencyMs = new LogHistogram(LATENCY_MS_BUCKETS);
  readonly championBins = new Float64Array(PSI_BINS);
  readonly challengerBins = new Float64Array(PSI_BINS);

  constructor(
    private readonly championThreshold: number,
    private readonly challengerThreshold: number,
  ) {}

  /** One comparison; scores are read only where their status is OK, latency only for a scored challenger. */
  add(
    championStatus: number,
    championScore: number,
    challengerStatus: number,
    challengerScore: number,
    challengerLatencyMs: number | undefined,
  ): void {
    this.compared += 1;
    // An unknown code counts as an error, as the schema's enum default reads it.
    this.challengerStatuses[challengerStatus < STATUS_COUNT ? challengerStatus : ScoringStatus.ERROR]! += 1;
    if (challengerStatus !== ScoringStatus.OK) return;
    if (challengerLatencyMs !== undefined) this.challengerLatencyMs.add(challengerLatencyMs);
    if (championStatus !== ScoringStatus.OK) return;
    this.comparable += 1;
    const championPositive = championScore >= this.championThreshold;
    const challengerPositive = challengerScore >= this.challengerThreshold;
    if (championPositive === challengerPositive) this.agreed += 1;
    else if (challengerPositive) this.challengerOnlyPositive += 1;
    else this.championOnlyPositive += 1;
    this.absScoreDifference.add(challengerScore - championScore);
    this.championBins[psiBin(championScore)]! += 1;
    this.challengerBins[psiBin(challengerScore)]! += 1;
  }

  merge(other: Tally): void {
    this.compared += other.compared;
    this.comparable += other.comparable;
    this.agreed += other.agreed;
    this.challengerOnlyPositive += other.challengerOnlyPositive;
    this.championOnlyPositive += other.championOnlyPositive;
    addInto(this.challengerStatuses, other.challengerStatuses);
    this.absScoreDifference.merge(other.absScoreDifference);
    this.challengerLatencyMs.merge(other.challengerLatencyMs);
    addInto(this.championBins, other.championBins);
    addInto(this.challengerBins, other.challengerBins);
  }

  reset(): void {
    this.compared = 0;
    this.comparable = 0;
    this.agreed = 0;
    this.challengerOnlyPositive = 0;
    this.championOnlyPositive = 0;
    this.challengerStatuses.fill(0);
    this.absScoreDifference.reset();
    this.challengerLatencyMs.reset();
    this.championBins.fill(0);
    this.challengerBins.fill(0);
  }

  figures(): Figures {
    const difference = this.absScoreDifference;
    const latency = this.challengerLatencyMs;
    const statuses = this.challengerStatuses;
    return {
      compared: this.compared,
      comparable: this.comparable,
      agreementRate: this.comparable === 0 ? null : this.agreed / this.comparable,
      flips: {
        challengerOnlyPositive: this.challengerOnlyPositive,
        championOnlyPositive: this.championOnlyPositive,
      },
      absScoreDifference:
        difference.total === 0
          ? null
          : {
              p50: difference.quantile(0.5)!,
              p90: difference.quantile(0.9)!,
              p99: difference.quantile(0.99)!,
              max: difference.max,
            },
      challengerStatus: {
        ok: statuses[ScoringStatus.OK]!,
        timeout: statuses[ScoringStatus.TIMEOUT]!,
        error: statuses[ScoringStatus.ERROR]!,
        shed: statuses[ScoringStatus.SHED]!,
      },
      challengerLatencyMs:
        latency.total === 0 ? null : { p50: latency.quantile(0.5)!, p99: latency.quantile(0.99)! },
      psi: populationStabilityIndex(this.championBins, this.challengerBins),
    };
  }
}

function addInto(target: Float64Array, source: Float64Array): void {
  for (let index = 0; index < target.length; index++) target[index]! += source[index]!;
}
