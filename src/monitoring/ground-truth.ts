/**
 * How each model version and variant did on the events whose labels arrived: the confusion counts at the
 * prediction's own decision, the rates derived from them, and how long labels took. Pure: the join
 * (labels.ts) feeds it, and a report is a GroundTruthReport of schemas/monitoring-event.avsc.
 */
import { type LogBuckets, LogHistogram } from '../experiments/histogram.js';

/** The manifest's two class labels: what a prediction's and a label record's `label` field may hold. */
export interface ClassLabels {
  positive: string;
  negative: string;
}

/** The class labels of a model version, from its manifest; undefined when the version is unknown. */
export type ClassLabelsOf = (modelName: string, modelVersion: string) => ClassLabels | undefined;

/** A label string read against a model's class labels. */
export const LabelClass = { NEGATIVE: 0, POSITIVE: 1, UNKNOWN: -1 } as const;
export type LabelClassCode = (typeof LabelClass)[keyof typeof LabelClass];

/** The GroundTruthReport record of schemas/monitoring-event.avsc. */
export interface GroundTruthReport {
  variant: string;
  threshold: number;
  labelled: number;
  true_positives: number;
  false_positives: number;
  true_negatives: number;
  false_negatives: number;
  precision: number | null;
  recall: number | null;
  false_positive_rate: number | null;
  positive_rate: number | null;
  label_delay_p50_ms: number | null;
  label_delay_p99_ms: number | null;
  expired: number;
}

/** Label delay from 1 s to 10^8 s (about three years), in steps of 12%; a second or less shares a bucket. */
const LABEL_DELAY_MS_BUCKETS: LogBuckets = { lowest: 1_000, decades: 8, stepsPerDecade: 20 };

/** A MonitoringEvent carrying a ground-truth report; the other kinds' fields are null. */
export interface GroundTruthMonitoringEvent {
  kind: 'GROUND_TRUTH';
  model_name: string;
  model_version: string;
  /** The instance (client id) that joined the labels. */
  instance: string;
  /** Epoch ms. */
  emitted_time: number;
  drift: null;
  ground_truth: GroundTruthReport;
  retrain: null;
}

const ratio = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole);

export class GroundTruthTally {
  truePositives = 0;
  falsePositives = 0;
  trueNegatives = 0;
  falseNegatives = 0;
  /** Predictions whose label did not arrive within the TTL, or that the join's bound pushed out. */
  expired = 0;
  /** Labels that were neither class label of the model: not counted. */
  unknownLabels = 0;
  /** label_time − event_time of each labelled prediction (a label stamped before its event counts as 0). */
  readonly labelDelayMs = new LogHistogram(LABEL_DELAY_MS_BUCKETS);

  constructor(
    readonly modelName: string,
    readonly modelVersion: string,
    readonly variant: string,
    readonly classes: ClassLabels,
    /** The threshold of the latest prediction seen: a version's threshold can only change with its manifest. */
    public threshold: number,
  ) {}

  classOf(label: string): LabelClassCode {
    if (label === this.classes.positive) return LabelClass.POSITIVE;
    if (label === this.classes.negative) return LabelClass.NEGATIVE;
    return LabelClass.UNKNOWN;
  }

  /**
   * One prediction joined to its label. False, and nothing counted but `unknownLabels`, when the label is
   * neither class label: the prediction is still waiting for a real one.
   */
  record(predictedPositive: boolean, eventTime: number, label: string, labelTime: number): boolean {
    const truth = this.classOf(label);
    if (truth === LabelClass.UNKNOWN) {
      this.unknownLabels += 1;
      return false;
    }
    if (truth === LabelClass.POSITIVE) {
      if (predictedPositive) this.truePositives += 1;
      else this.falseNegatives += 1;
    } else if (predictedPositive) this.falsePositives += 1;
    else this.trueNegatives += 1;
    this.labelDelayMs.add(Math.max(0, labelTime - eventTime));
    return true;
  }

  get labelled(): number {
    return this.truePositives + this.falsePositives + this.trueNegatives + this.falseNegatives;
  }

  report(): GroundTruthReport {
    const tp = this.truePositives;
    const fp = this.falsePositives;
    const tn = this.trueNegatives;
    const fn = this.falseNegatives;
    const labelled = this.labelled;
    return {
      variant: this.variant,
      threshold: this.threshold,
      labelled,
      true_positives: tp,
      false_positives: fp,
      true_negatives: tn,
      false_negatives: fn,
      precision: ratio(tp, tp + fp),
      recall: ratio(tp, tp + fn),
      false_positive_rate: ratio(fp, fp + tn),
      positive_rate: ratio(tp + fp, labelled),
      label_delay_p50_ms: this.labelDelayMs.quantile(0.5),
      label_delay_p99_ms: this.labelDelayMs.quantile(0.99),
      expired: this.expired,
    };
  }
}

/**
 * The tallies of every model version and variant seen, by index, so a waiting prediction holds a number
 * rather than a reference. Predictions come in runs of one version and variant: the last one found is
 * checked first, and finding it builds no key.
 */
export class GroundTruthTallies {
  private readonly tallies: GroundTruthTally[] = [];
  private readonly indexByKey = new Map<string, number>();
  private last = -1;

  constructor(private readonly classLabelsOf: ClassLabelsOf) {}

  /** The tally's index, made on first sight; -1 when the model version's class labels are unknown. */
  indexOf(modelName: string, modelVersion: string, variant: string, threshold: number): number {
    const last = this.tallies[this.last];
    if (
      last !== undefined &&
      last.modelName === modelName &&
      last.modelVersion === modelVersion &&
      last.variant === variant
    ) {
      last.threshold = threshold;
      return this.last;
    }
    // The separator cannot occur in a name: Avro strings may, but model names and versions are folder names.
    const key = `${modelName}\u0000${modelVersion}\u0000${variant}`;
    let index = this.indexByKey.get(key);
    if (index === undefined) {
      const classes = this.classLabelsOf(modelName, modelVersion);
      if (classes === undefined) return -1;
      index = this.tallies.length;
      this.tallies.push(new GroundTruthTally(modelName, modelVersion, variant, classes, threshold));
      this.indexByKey.set(key, index);
    }
    this.tallies[index]!.threshold = threshold;
    this.last = index;
    return index;
  }

  at(index: number): GroundTruthTally {
    return this.tallies[index]!;
  }

  all(): readonly GroundTruthTally[] {
    return this.tallies;
  }
}

export function groundTruthMonitoringEvent(
  tally: GroundTruthTally,
  instance: string,
  emittedTime: number,
): GroundTruthMonitoringEvent {
  return {
    kind: 'GROUND_TRUTH',
    model_name: tally.modelName,
    model_version: tally.modelVersion,
    instance,
    emitted_time: emittedTime,
    drift: null,
    ground_truth: tally.report(),
    retrain: null,
  };
}
