/**
 * Drift windows for one model version: the served feature values and scores are counted in the training
 * bins of the version's manifest baseline, and each window closes with a report of every feature's and
 * the score's population stability index (PSI) against training. Counting a batch allocates nothing;
 * only closing a window does (its report).
 *
 * Every row is counted in the bins as served, defaults included, as the baseline's proportions were; the
 * share of rows whose field was null is reported beside them (against the training share), not binned
 * apart.
 */
import { populationStabilityIndex } from '../experiments/index.js';
import type { ModelBaseline, ModelManifest } from '../models/index.js';
import { type CompiledBins, compileBins } from './bins.js';

export type DriftSeverity = 'OK' | 'WARN' | 'ALERT';

export interface DriftOptions {
  /** A window closes once it holds this many events. */
  windowEvents: number;
  /** Or once this long has passed since its first event, if it holds `minSamples` events by then. */
  windowMs: number;
  /**
   * Fewest events a window closing by time reports. One with fewer keeps counting, so its events are not
   * lost: it closes as soon as it has `minSamples` (its span then runs past `windowMs`) or `windowEvents`.
   */
  minSamples: number;
  /** PSI from which a feature or the score is WARN; 0.1 by default. */
  psiWarn?: number;
  /** PSI from which it is ALERT; 0.25 by default. */
  psiAlert?: number;
  /** Features whose PSI is reported but never raises the window's severity (an hour of day, say). */
  ignoreFeatures?: readonly string[];
}

export const DEFAULT_PSI_WARN = 0.1;
export const DEFAULT_PSI_ALERT = 0.25;
export const MOVED_BINS_REPORTED = 3;

export interface MovedBin {
  /** The bin as the bins module labels it: "[1.2, 3.4)", "= 1", "unseen". */
  label: string;
  expectedShare: number;
  actualShare: number;
}

export interface FeatureDrift {
  feature: string;
  psi: number;
  severity: DriftSeverity;
  /** Share of the window's events whose field was null. */
  missingShare: number;
  trainingMissingShare: number;
  /** The bins whose share moved most, largest |actual − expected| first; unmoved bins are left out. */
  movedBins: MovedBin[];
}

export interface DriftReport {
  modelName: string;
  modelVersion: string;
  /** Epoch ms of the window's first event. */
  windowStart: number;
  /** Epoch ms it closed at. */
  windowEnd: number;
  samples: number;
  /** The worst band any feature or the score reached. */
  severity: DriftSeverity;
  scorePsi: number;
  /** In the manifest's feature order. */
  features: FeatureDrift[];
}

/** What a window needs of a model version: a manifest with a baseline. */
export interface MonitoredModel {
  name: string;
  version: string;
  baseline: ModelBaseline;
}

/** The version's drift window, or undefined when its manifest has no baseline (served unmonitored). */
export function createDriftWindow(manifest: ModelManifest, options: DriftOptions): DriftWindow | undefined {
  const { name, version, baseline } = manifest;
  return baseline === undefined ? undefined : new DriftWindow({ name, version, baseline }, options);
}

export class DriftWindow {
  readonly featureNames: readonly string[];
  private readonly featureBins: readonly CompiledBins[];
  private readonly scoreBins: CompiledBins;
  /** Per feature, the window's count in each of its bins. */
  private readonly featureCounts: readonly Float64Array[];
  private readonly scoreCounts: Float64Array;
  private readonly missingCounts: Float64Array;
  private readonly trainingMissing: Float64Array;
  private readonly psiWarn: number;
  private readonly psiAlert: number;
  private samples = 0;
  private windowStart = 0;

  constructor(
    private readonly model: MonitoredModel,
    private readonly options: DriftOptions,
  ) {
    this.psiWarn = options.psiWarn ?? DEFAULT_PSI_WARN;
    this.psiAlert = options.psiAlert ?? DEFAULT_PSI_ALERT;
    checkOptions(options, this.psiWarn, this.psiAlert);
    const features = model.baseline.features;
    this.featureNames = features.map((feature) => feature.name);
    this.featureBins = features.map(compileBins);
    this.scoreBins = compileBins(model.baseline.score);
    this.featureCounts = this.featureBins.map((bins) => new Float64Array(bins.binCount));
    this.scoreCounts = new Float64Array(this.scoreBins.binCount);
    this.missingCounts = new Float64Array(features.length);
    this.trainingMissing = Float64Array.from(features, (feature) => feature.missing);
  }

  /** Events counted in the open window. */
  get pending(): number {
    return this.samples;
  }

  /**
   * Counts the first `count` rows of a scored batch: `rows` row-major, `width` features a row (the
   * manifest's), `scores` one a row, `missing` (if any field was null) `count` × `width` flags, 1 where
   * the feature's field was null. `now` (epoch ms) opens the window if this is its first event.
   */
  add(
    rows: Float32Array | Float64Array,
    width: number,
    count: number,
    scores: Float32Array,
    missing: Uint8Array | undefined,
    now: number,
  ): void {
    if (width !== this.featureBins.length) {
      throw new RangeError(
        `DriftWindow.add: rows of ${width} features, the baseline has ${this.featureBins.length}`,
      );
    }
    if (count <= 0) return;
    if (this.samples === 0) this.windowStart = now;
    this.samples += count;
    for (let feature = 0; feature < width; feature++) {
      this.featureBins[feature]!.countColumn(rows, width, feature, count, this.featureCounts[feature]!);
    }
    this.scoreBins.countColumn(scores, 1, 0, count, this.scoreCounts);
    if (missing !== undefined) countFlags(missing, width, count, this.missingCounts);
  }

  /** The window's report if it is due at `now` (see DriftOptions), the counts then starting afresh. */
  closeIfDue(now: number): DriftReport | undefined {
    if (!this.isDue(now)) return undefined;
    const report = this.report(now);
    this.reset();
    return report;
  }

  /** Drops the open window's counts unreported. */
  reset(): void {
    this.samples = 0;
    this.windowStart = 0;
    for (const counts of this.featureCounts) counts.fill(0);
    this.scoreCounts.fill(0);
    this.missingCounts.fill(0);
  }

  private isDue(now: number): boolean {
    const { windowEvents, windowMs, minSamples } = this.options;
    if (this.samples === 0) return false;
    if (this.samples >= windowEvents) return true;
    return now - this.windowStart >= windowMs && this.samples >= minSamples;
  }

  private report(now: number): DriftReport {
    const samples = this.samples;
    const features = this.featureBins.map((bins, feature): FeatureDrift => {
      const counts = this.featureCounts[feature]!;
      const psi = psiOf(bins, counts);
      return {
        feature: this.featureNames[feature]!,
        psi,
        severity: this.severityOf(psi),
        missingShare: this.missingCounts[feature]! / samples,
        trainingMissingShare: this.trainingMissing[feature]!,
        movedBins: largestMoves(bins, counts, samples),
      };
    });
    const scorePsi = psiOf(this.scoreBins, this.scoreCounts);
    let severity = this.severityOf(scorePsi);
    const ignored = this.options.ignoreFeatures;
    for (const feature of features) {
      if (!ignored?.includes(feature.feature)) severity = worse(severity, feature.severity);
    }
    return {
      modelName: this.model.name,
      modelVersion: this.model.version,
      windowStart: this.windowStart,
      windowEnd: now,
      samples,
      severity,
      scorePsi,
      features,
    };
  }

  private severityOf(psi: number): DriftSeverity {
    if (psi >= this.psiAlert) return 'ALERT';
    if (psi >= this.psiWarn) return 'WARN';
    return 'OK';
  }
}

function checkOptions(options: DriftOptions, psiWarn: number, psiAlert: number): void {
  const { windowEvents, windowMs, minSamples } = options;
  if (!(Number.isInteger(windowEvents) && windowEvents > 0 && windowMs > 0)) {
    throw new RangeError('DriftWindow: windowEvents (an integer) and windowMs must be positive');
  }
  // A window full by count is always reported, so it must be enough by minSamples' measure too.
  if (!(minSamples >= 0 && minSamples <= windowEvents)) {
    throw new RangeError('DriftWindow: minSamples must lie between 0 and windowEvents');
  }
  if (!(psiWarn > 0 && psiWarn <= psiAlert)) {
    throw new RangeError('DriftWindow: psiWarn must be positive and at most psiAlert');
  }
}

/** Adds each column's flags of the first `count` rows into `out[column]`. */
function countFlags(flags: Uint8Array, width: number, count: number, out: Float64Array): void {
  const end = count * width;
  for (let column = 0; column < width; column++) {
    let flagged = 0;
    for (let index = column; index < end; index += width) flagged += flags[index]!;
    out[column]! += flagged;
  }
}

function psiOf(bins: CompiledBins, counts: Float64Array): number {
  // Never null: a closing window holds events and the baseline's shares sum to 1.
  return populationStabilityIndex(bins.expected, counts)!;
}

const SEVERITY_RANK: Record<DriftSeverity, number> = { OK: 0, WARN: 1, ALERT: 2 };

function worse(a: DriftSeverity, b: DriftSeverity): DriftSeverity {
  return SEVERITY_RANK[b] > SEVERITY_RANK[a] ? b : a;
}

function largestMoves(bins: CompiledBins, counts: Float64Array, samples: number): MovedBin[] {
  const moves: MovedBin[] = [];
  for (let bin = 0; bin < bins.binCount; bin++) {
    const expectedShare = bins.expected[bin]!;
    const actualShare = counts[bin]! / samples;
    if (actualShare !== expectedShare) moves.push({ label: bins.labels[bin]!, expectedShare, actualShare });
  }
  const moved = (move: MovedBin) => Math.abs(move.actualShare - move.expectedShare);
  return moves.sort((a, b) => moved(b) - moved(a)).slice(0, MOVED_BINS_REPORTED);
}
