/**
 * The scoring pipeline for one Kafka batch of one partition: decode → features → infer → route. It
 * returns the batch's output (predictions, and dead letters for the records that cannot be scored);
 * publishing it and committing the input offsets is the delivery's job. A bad record is set aside on its
 * own and never holds up the rest of its batch; a failure of the infrastructure throws, blames no record.
 */
import type { PrefixedEncoder, RecordDecoder, RecordEncoder } from '../codec/index.js';
import type { ServingPlan } from '../deployments/index.js';
import { BadRecordError, type ErrorCode, isBadRecord } from '../errors/index.js';
import type { DecodedRecord } from '../features/index.js';
import {
  type InferenceTiming,
  type IsolatedScores,
  type ModelPool,
  scoreIsolatingFailures,
} from '../inference/index.js';
import type { HeaderValue, InputRecord, OutputRecord, TopicRecords } from '../kafka/index.js';
import {
  blankPrediction,
  type Comparison,
  createComparisonEncoder,
  type Prediction,
  type PredictionContext,
  type ScoredEvent,
  ScoringStatus,
  toDeadLetter,
  writePrediction,
} from '../routing/index.js';
import {
  type ChampionScored,
  championScored,
  type RecordRejected,
  recordRejected,
} from '../telemetry/index.js';
import { alertSource, type BatchAlerts, type ChampionExplanation } from './alerts.js';
import { type ChallengerOptions, type ChallengerRun, runChallengers } from './challengers.js';
import { canaryDecisions, compareChallengers, NO_CANARY } from './experiment.js';

export interface PartitionBatch {
  topic: string;
  partition: number;
  records: readonly InputRecord[];
  /** performance.now() when the batch arrived from Kafka. */
  fetchedAt: number;
}

/** performance.now() instants of the batch's stages, for tracing. */
export interface StageTiming {
  decodedAt: number;
  inferenceQueuedAt: number;
  inferenceStartedAt: number | undefined;
  inferenceEndedAt: number;
}

export interface BatchOutput {
  /** Predictions, dead letters, comparisons: everything the batch publishes, in one delivery. */
  output: TopicRecords[];
  predictions: number;
  /** Dead letters by reason; undefined when every record was scored. */
  rejections: Map<ErrorCode, number> | undefined;
  timing: StageTiming;
  /** event_time of each prediction, for end-to-end latency. */
  eventTimes: number[];
  model: { name: string; version: string; rows: number };
}

/** The W3C traceparent to put on the output made from a record; undefined leaves it without one. */
export type TraceparentFor = (record: InputRecord) => HeaderValue | undefined;

export interface ScoringPipelineOptions {
  inputCodec: RecordDecoder<DecodedRecord>;
  outputCodec: RecordEncoder<Prediction>;
  comparisonCodec: PrefixedEncoder<Comparison>;
  pool: ModelPool;
  /** The deployment's plan for the batch about to start. */
  plan(): ServingPlan;
  /** The variant the champion's predictions carry. */
  variant: string;
  outputTopic: string;
  deadLetterTopic: string;
  comparisonTopic: string;
  /** How long shadows may take past the champion, and the queue beyond which their work is shed. */
  challengers: Pick<ChallengerOptions, 'shadowDeadlineMs' | 'shedQueuedRows'>;
  /** Alerts with reason codes (monitoring.alerts); undefined when off. */
  alerts?: BatchAlerts | undefined;
}

export interface ScoringPipeline {
  scoreBatch(batch: PartitionBatch, traceparentFor?: TraceparentFor): Promise<BatchOutput>;
}

export function createScoringPipeline(options: ScoringPipelineOptions): ScoringPipeline {
  const { inputCodec, outputCodec, pool, variant, alerts } = options;
  const comparisons = createComparisonEncoder(options.comparisonCodec);

  return {
    async scoreBatch(batch, traceparentFor) {
      const { records: consumed } = batch;
      // Writer schemas the batch needs and the process has not seen yet; a registry failure throws here,
      // before any record is judged, and the batch is retried.
      const fetching = inputCodec.prepare(consumed);
      if (fetching) await fetching;
      const accepted: InputRecord[] = [];
      const records: DecodedRecord[] = [];
      const deadLetters: OutputRecord[] = [];
      let rejections: Map<ErrorCode, number> | undefined;
      const reject = (record: InputRecord, error: BadRecordError) => {
        deadLetters.push(toDeadLetter(record, batch, error));
        rejections ??= new Map();
        rejections.set(error.code, (rejections.get(error.code) ?? 0) + 1);
        if (recordRejected.hasSubscribers) {
          const rejected: RecordRejected = {
            topic: batch.topic,
            partition: batch.partition,
            offset: record.offset,
            error,
          };
          recordRejected.publish(rejected);
        }
      };

      // One plan and one champion lease for the whole batch: its features, scores and predictions come from
      // the versions in force when it started, even if a decision swaps in others meanwhile.
      const plan = options.plan();
      const model = pool.acquire(plan.champion);
      const inference: InferenceTiming = {};
      let scored: IsolatedScores;
      let decodedAt: number;
      let challengers: ChallengerRun | undefined;
      let explanation: ChampionExplanation | undefined;
      const featureRows = model.features.allocateRows(consumed.length);
      try {
        for (const record of consumed) {
          try {
            const decoded = inputCodec.decode(record.value);
            model.features.extractInto(decoded, featureRows, records.length);
            accepted.push(record);
            records.push(decoded);
          } catch (error) {
            if (!isBadRecord(error)) throw error;
            reject(record, error);
          }
        }
        decodedAt = performance.now();
        if (plan.challengers.length > 0) {
          challengers = runChallengers(
            plan,
            accepted,
            records,
            { manifest: model.manifest, rows: featureRows },
            { pool, ...options.challengers },
          );
        }
        scored = await scoreIsolatingFailures(model, featureRows, records.length, inference);
        explanation = await alerts?.explainChampion(
          model,
          featureRows,
          records.length,
          scored.scores,
          scored.failedRows,
        );
      } finally {
        model.release();
      }
      const inferenceEndedAt = performance.now();
      const challenged = challengers ? await challengers.settle() : [];

      const failed = scored.failedRows.length > 0 ? new Set(scored.failedRows) : undefined;
      const scoredAt = performance.now();
      const scoredTime = Date.now();
      if (championScored.hasSubscribers) {
        championScored.publish({
          manifest: model.manifest,
          records,
          rows: featureRows,
          count: records.length,
          scores: scored.scores,
          failedRows: scored.failedRows,
          at: scoredTime,
        } satisfies ChampionScored);
      }
      const contextOf = (manifest: PredictionContext['manifest'], decidedBy: string) => ({
        manifest,
        variant: decidedBy,
        fetchedAt: batch.fetchedAt,
        scoredAt,
        scoredTime,
      });
      const championContext = contextOf(model.manifest, variant);
      const canaries = challenged.filter(({ challenger }) => challenger.mode === 'canary');
      const canaryContexts = canaries.map((canary) => contextOf(canary.manifest, canary.variant));
      const decisions = canaries.length > 0 ? canaryDecisions(records.length, canaries) : undefined;
      const championAlerts =
        alerts && alertSource(model.manifest, variant, scoredTime, featureRows, scored.scores);
      const canaryAlerts =
        alerts &&
        canaries.map((canary) =>
          alertSource(canary.manifest, canary.variant, scoredTime, featureRows, canary.scores),
        );
      const alerted: OutputRecord[] = [];
      const predictions: OutputRecord[] = [];
      const eventTimes: number[] = [];
      // Refilled for each record and encoded at once: avsc needs an object, not one per record.
      const prediction = blankPrediction();
      for (let row = 0; row < records.length; row++) {
        const record = accepted[row]!;
        if (failed?.has(row)) {
          // The reason names the model, never onnxruntime's message: that message can quote tensor values
          // derived from the record's fields (a Gather index, say), and a dead letter's reason never does.
          reject(
            record,
            new BadRecordError('INFERENCE_RECORD_FAILED', `${model.id} raised an error on this record`),
          );
          continue;
        }
        const canary = decisions?.canaryOf[row] ?? NO_CANARY;
        const event = records[row] as unknown as ScoredEvent;
        const position = canary === NO_CANARY ? row : decisions!.positionOf[row]!;
        if (canary === NO_CANARY) writePrediction(prediction, event, scored.scores[row]!, championContext);
        else writePrediction(prediction, event, canaries[canary]!.scores[position]!, canaryContexts[canary]!);
        if (alerts) {
          if (canary === NO_CANARY) alerts.collect(alerted, record, event, row, championAlerts!, explanation);
          else alerts.collect(alerted, record, event, position, canaryAlerts![canary]!, undefined);
        }
        const traceparent = traceparentFor?.(record);
        const value = outputCodec.encode(prediction);
        predictions.push(
          traceparent === undefined
            ? { key: record.key, value }
            : { key: record.key, value, headers: { traceparent } },
        );
        eventTimes.push(prediction.event_time);
      }
      const output: TopicRecords[] = [
        { topic: options.outputTopic, records: predictions },
        { topic: options.deadLetterTopic, records: deadLetters },
      ];
      if (alerts) output.push({ topic: alerts.topic, records: alerted });
      if (challenged.length > 0) {
        const compared: OutputRecord[] = [];
        const statuses = scored.failedRows.length > 0 ? new Uint8Array(records.length) : undefined;
        for (const row of scored.failedRows) statuses![row] = ScoringStatus.ERROR;
        compareChallengers(
          comparisons,
          {
            topic: batch.topic,
            partition: batch.partition,
            accepted,
            events: records as unknown as ScoredEvent[],
            champion: {
              variant,
              manifest: model.manifest,
              scores: scored.scores,
              statuses,
              latencyMs: inferenceEndedAt - decodedAt,
            },
            challengers: challenged,
          },
          compared,
        );
        output.push({ topic: options.comparisonTopic, records: compared });
      }
      return {
        output,
        predictions: predictions.length,
        rejections,
        timing: {
          decodedAt,
          inferenceQueuedAt: decodedAt,
          inferenceStartedAt: inference.startedAt,
          inferenceEndedAt,
        },
        eventTimes,
        model: { name: model.manifest.name, version: model.manifest.version, rows: records.length },
      };
    },
  };
}
