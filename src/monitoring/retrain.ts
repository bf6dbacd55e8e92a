/**
 * The retrain signal of one model version: drift windows and ground-truth reports go in, and a
 * RetrainSuggested record (schemas/monitoring-event.avsc) comes out once a limit has held for
 * monitoring.retrainAfterMs. Pure: the caller feeds the observations with their clock and publishes what
 * comes back.
 *
 * Each condition is suggested once per run: it is not suggested again while it keeps holding, and again
 * only after it has cleared and then held for the whole duration anew. "Not again until the model version
 * changes" is the caller's part: it keeps one watch per model version, so a new version starts with a
 * fresh watch and the old version's watch is dropped with it.
 */
import { createAvroCodec, loadAvroSchema, type RecordEncoder } from '../codec/index.js';
import type { Config } from '../config/index.js';
import type { DriftReport, MonitoredModel } from './drift.js';
import { MONITORING_EVENT_SCHEMA_PATH } from './drift-event.js';
import type { GroundTruthReport } from './ground-truth.js';

export type RetrainReason = 'DRIFT' | 'PRECISION' | 'RECALL';

/** The RetrainSuggested record of schemas/monitoring-event.avsc. */
export interface RetrainSuggestion {
  reason: RetrainReason;
  /** Epoch ms the condition started to hold. */
  since: number;
  /** The figures that crossed their limits, for a human. */
  evidence: string;
  /** DRIFT: monitoring.psiAlert; PRECISION, RECALL: the configured minimum. */
  limit: number;
  /** DRIFT: the largest PSI at ALERT in the last window; PRECISION, RECALL: the rate in the last report. */
  observed: number;
}

/** The monitoring settings a watch reads: `config.monitoring` fits as it is. */
export type RetrainSettings = Pick<
  Config['monitoring'],
  | 'retrainMinPrecision'
  | 'retrainMinRecall'
  | 'retrainOnDrift'
  | 'retrainAfterMs'
  | 'psiAlert'
  | 'driftIgnoreFeatures'
>;

/**
 * Labelled predicted positives (precision) or labelled actual positives (recall) a rate needs before it
 * is judged: below that, one unlucky label moves it by whole percents and a retrain would be suggested
 * on noise.
 */
export const DEFAULT_MIN_LABELLED_POSITIVES = 50;

/** A MonitoringEvent carrying a retrain suggestion; the other kinds' fields are null. */
export interface RetrainMonitoringEvent {
  kind: 'RETRAIN_SUGGESTED';
  model_name: string;
  model_version: string;
  /** The instance (client id) whose watch suggested it. */
  instance: string;
  /** Epoch ms. */
  emitted_time: number;
  drift: null;
  ground_truth: null;
  retrain: RetrainSuggestion;
}

/** One condition's current run: when it started holding, and whether this run was suggested yet. */
class ConditionRun {
  private since: number | undefined;
  private suggested = false;

  /**
   * The condition holds at `now`; `start` is when it started if it was not holding before. Returns the
   * run's start the one time it becomes due (held for `afterMs`), undefined otherwise.
   */
  hold(start: number, now: number, afterMs: number): number | undefined {
    if (this.since === undefined) {
      this.since = start;
      this.suggested = false;
    }
    if (this.suggested || now - this.since < afterMs) return undefined;
    this.suggested = true;
    return this.since;
  }

  clear(): void {
    this.since = undefined;
  }
}

export class RetrainWatch {
  private readonly drift = new ConditionRun();
  private readonly precision = new ConditionRun();
  private readonly recall = new ConditionRun();
  /** ALERT windows in a row, the current DRIFT run's. */
  private alertWindows = 0;
  private readonly ignoredFeatures: ReadonlySet<string>;

  constructor(
    private readonly settings: RetrainSettings,
    private readonly minLabelledPositives = DEFAULT_MIN_LABELLED_POSITIVES,
  ) {
    if (!(Number.isInteger(minLabelledPositives) && minLabelledPositives > 0)) {
      throw new RangeError('RetrainWatch: minLabelledPositives must be a positive integer');
    }
    this.ignoredFeatures = new Set(settings.driftIgnoreFeatures);
  }

  /**
   * A closed drift window of this watch's model version, observed at `now` (epoch ms). DRIFT holds while
   * the windows in a row are ALERT: it starts at the first ALERT window's windowStart, because its events
   * were already drifted from then on, and clears at any window that is not ALERT. The features of
   * monitoring.driftIgnoreFeatures are left out of the evidence and the observed PSI, as they are out of
   * the window's severity.
   */
  observeDrift(report: DriftReport, now: number): RetrainSuggestion[] {
    if (!this.settings.retrainOnDrift) return [];
    if (report.severity !== 'ALERT') {
      this.drift.clear();
      this.alertWindows = 0;
      return [];
    }
    this.alertWindows += 1;
    const since = this.drift.hold(report.windowStart, now, this.settings.retrainAfterMs);
    if (since === undefined) return [];
    return [this.driftSuggestion(report, since)];
  }

  /**
   * A ground-truth report of this watch's model version (one variant's, the caller's choice), observed at
   * `now` (epoch ms). PRECISION holds while precision is below retrainMinPrecision, RECALL while recall
   * is below retrainMinRecall; each starts at the first such report and clears at one at or above its
   * limit. A rate that cannot be judged (null, or too few labelled positives behind it) clears it too: a
   * condition must be seen holding for the whole duration.
   */
  observeGroundTruth(report: GroundTruthReport, now: number): RetrainSuggestion[] {
    const { true_positives: tp, false_positives: fp, false_negatives: fn } = report;
    const { retrainMinPrecision, retrainMinRecall } = this.settings;
    const suggestions: RetrainSuggestion[] = [];
    const precision = this.observeRate(this.precision, report.precision, tp + fp, retrainMinPrecision, now);
    if (precision !== undefined) {
      const over = `${tp + fp} labelled predicted positives (TP ${tp}, FP ${fp})`;
      suggestions.push(rateSuggestion('PRECISION', precision, over, report));
    }
    const recall = this.observeRate(this.recall, report.recall, tp + fn, retrainMinRecall, now);
    if (recall !== undefined) {
      const over = `${tp + fn} labelled actual positives (TP ${tp}, FN ${fn})`;
      suggestions.push(rateSuggestion('RECALL', recall, over, report));
    }
    return suggestions;
  }

  private observeRate(
    run: ConditionRun,
    rate: number | null,
    labelledPositives: number,
    limit: number,
    now: number,
  ): DueRate | undefined {
    const below =
      limit > 0 && rate !== null && labelledPositives >= this.minLabelledPositives && rate < limit;
    if (!below) {
      run.clear();
      return undefined;
    }
    const since = run.hold(now, now, this.settings.retrainAfterMs);
    return since === undefined ? undefined : { since, limit, observed: rate };
  }

  private driftSuggestion(report: DriftReport, since: number): RetrainSuggestion {
    const { psiAlert } = this.settings;
    const alerting = report.features.filter(
      (feature) => feature.severity === 'ALERT' && !this.ignoredFeatures.has(feature.feature),
    );
    const scoreAlerting = report.scorePsi >= psiAlert;
    let observed = scoreAlerting ? report.scorePsi : 0;
    for (const feature of alerting) observed = Math.max(observed, feature.psi);
    const features =
      alerting.length === 0
        ? 'no feature at ALERT'
        : `features at ALERT: ${alerting.map((feature) => `${feature.feature} ${psi(feature.psi)}`).join(', ')}`;
    const windows =
      this.alertWindows === 1 ? '1 drift window' : `${this.alertWindows} drift windows in a row`;
    return {
      reason: 'DRIFT',
      since,
      evidence:
        `${windows} at ALERT (PSI >= ${psiAlert}) since ${new Date(since).toISOString()}; ` +
        `last window of ${report.samples} events: ${features}; ` +
        `score PSI ${psi(report.scorePsi)}${scoreAlerting ? ' (ALERT)' : ''}`,
      limit: psiAlert,
      observed,
    };
  }
}

interface DueRate {
  since: number;
  limit: number;
  observed: number;
}

/** `over` names the labelled events the rate was taken over. */
function rateSuggestion(
  reason: 'PRECISION' | 'RECALL',
  due: DueRate,
  over: string,
  report: GroundTruthReport,
): RetrainSuggestion {
  return {
    reason,
    since: due.since,
    evidence:
      `${reason.toLowerCase()} ${due.observed.toFixed(3)} below ${due.limit} since ` +
      `${new Date(due.since).toISOString()}, over ${over}; variant ${report.variant}, threshold ${report.threshold}`,
    limit: due.limit,
    observed: due.observed,
  };
}

const psi = (value: number): string => value.toFixed(3);

export function retrainMonitoringEvent(
  suggestion: RetrainSuggestion,
  model: Pick<MonitoredModel, 'name' | 'version'>,
  instance: string,
  emittedTime: number,
): RetrainMonitoringEvent {
  return {
    kind: 'RETRAIN_SUGGESTED',
    model_name: model.name,
    model_version: model.version,
    instance,
    emitted_time: emittedTime,
    drift: null,
    ground_truth: null,
    retrain: {
      reason: suggestion.reason,
      since: suggestion.since,
      evidence: suggestion.evidence,
      limit: suggestion.limit,
      observed: suggestion.observed,
    },
  };
}

/** Encodes retrain events as plain Avro binary against the monitoring event schema. */
export function loadRetrainEventEncoder(
  schemaPath = MONITORING_EVENT_SCHEMA_PATH,
): RecordEncoder<RetrainMonitoringEvent> {
  return createAvroCodec<RetrainMonitoringEvent>(loadAvroSchema(schemaPath));
}
