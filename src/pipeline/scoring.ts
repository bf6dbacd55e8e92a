/**
 * The scoring pipeline for one Kafka batch of one partition: decode → features → infer → route. It
 * returns the batch's output (predictions, and dead letters for the records that cannot be scored);
 * publishing it and committing the input offsets is the delivery's job. A bad record is set aside on its
 * own and never holds up the rest of its batch; a failure of the infrastructure throws, blames no record.
 */
import type { AvroCodec } from '../codec/index.js';
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
import { type Prediction, type ScoredEvent, toDeadLetter, toPrediction } from '../routing/index.js';
import { type RecordRejected, recordRejected } from '../telemetry/index.js';

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
  /** Predictions, then dead letters: everything the batch publishes, in one delivery. */
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
  inputCodec: AvroCodec<DecodedRecord>;
  outputCodec: AvroCodec<Prediction>;
  pool: ModelPool;
  /** The deployment's plan for the batch about to start. */
  plan(): ServingPlan;
  variant: string;
  outputTopic: string;
  deadLetterTopic: string;
}

export interface ScoringPipeline {
  scoreBatch(batch: PartitionBatch, traceparentFor?: TraceparentFor): Promise<BatchOutput>;
}

export function createScoringPipeline(options: ScoringPipelineOptions): ScoringPipeline {
  const { inputCodec, outputCodec, pool, variant } = options;

  return {
    async scoreBatch(batch, traceparentFor) {
      const { records: consumed } = batch;
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

      // One plan and one lease for the whole batch: its features and scores come from one model version,
      // which stays loaded until the lease is returned even if a decision swaps in another meanwhile.
      const model = pool.acquire(options.plan().champion);
      const inference: InferenceTiming = {};
      let scored: IsolatedScores;
      let decodedAt: number;
      try {
        const featureRows = model.features.allocateRows(consumed.length);
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
        scored = await scoreIsolatingFailures(model, featureRows, records.length, inference);
      } finally {
        model.release();
      }
      const inferenceEndedAt = performance.now();

      const failed = new Set(scored.failedRows);
      const context = {
        manifest: model.manifest,
        variant,
        fetchedAt: batch.fetchedAt,
        scoredAt: performance.now(),
        scoredTime: Date.now(),
      };
      const predictions: OutputRecord[] = [];
      const eventTimes: number[] = [];
      for (let row = 0; row < records.length; row++) {
        const record = accepted[row]!;
        if (failed.has(row)) {
          // The reason names the model, never onnxruntime's message: that message can quote tensor values
          // derived from the record's fields (a Gather index, say), and a dead letter's reason never does.
          reject(
            record,
            new BadRecordError('INFERENCE_RECORD_FAILED', `${model.id} raised an error on this record`),
          );
          continue;
        }
        const prediction = toPrediction(records[row] as unknown as ScoredEvent, scored.scores[row]!, context);
        const traceparent = traceparentFor?.(record);
        predictions.push({
          key: record.key,
          value: outputCodec.encode(prediction),
          ...(traceparent ? { headers: { traceparent } } : {}),
        });
        eventTimes.push(prediction.event_time);
      }
      return {
        output: [
          { topic: options.outputTopic, records: predictions },
          { topic: options.deadLetterTopic, records: deadLetters },
        ],
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
