/**
 * The scoring pipeline for one Kafka batch of one partition: decode → features → infer → route. It
 * returns the batch's output (predictions, and dead letters for the records that cannot be scored);
 * publishing it and committing the input offsets is the delivery's job. A bad record is set aside on its
 * own and never holds up the rest of its batch; a failure of the infrastructure throws, blames no record.
 */
import type { KafkaMessage, Message } from 'kafkajs';
import type { AvroCodec } from '../codec/index.js';
import { BadRecordError, isBadRecord, StreamscoreError } from '../errors/index.js';
import type { DecodedRecord } from '../features/index.js';
import type { InferenceTiming, ModelEngine, ServingModel } from '../inference/index.js';
import { type Prediction, type ScoredEvent, toDeadLetter, toPrediction } from '../routing/index.js';
import { type RecordRejected, recordRejected } from '../telemetry/index.js';

export interface PartitionBatch {
  topic: string;
  partition: number;
  messages: readonly KafkaMessage[];
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
  predictions: Message[];
  deadLetters: Message[];
  timing: StageTiming;
  /** event_time of each prediction, for end-to-end latency. */
  eventTimes: number[];
  model: { name: string; version: string; rows: number };
}

/** The W3C traceparent to put on the output made from a message; undefined leaves it without one. */
export type TraceparentFor = (message: KafkaMessage) => Buffer | string | undefined;

export interface ScoringPipelineOptions {
  inputCodec: AvroCodec<DecodedRecord>;
  outputCodec: AvroCodec<Prediction>;
  engine: ModelEngine;
  variant: string;
}

export interface ScoringPipeline {
  scoreBatch(batch: PartitionBatch, traceparentFor?: TraceparentFor): Promise<BatchOutput>;
}

interface Scored {
  scores: Float32Array;
  /** Rows the model raised an error on, each on its own. */
  failedRows: number[];
}

function isRunFailure(error: unknown): boolean {
  return error instanceof StreamscoreError && error.code === 'INFERENCE_RUN_FAILED';
}

/**
 * Scores the rows; when onnxruntime fails on the batch, halves it until the rows it fails on are alone.
 * If it fails on every row, the model or runtime is broken, not the records: that is rethrown.
 */
async function scoreIsolatingFailures(
  model: ServingModel,
  features: Float32Array,
  rows: number,
  timing: InferenceTiming,
): Promise<Scored> {
  const width = model.features.width;
  const scores = new Float32Array(rows);
  const failedRows: number[] = [];
  const attempt = async (first: number, count: number): Promise<void> => {
    try {
      scores.set(await model.score(features.subarray(first * width, (first + count) * width), count), first);
    } catch (error) {
      if (!isRunFailure(error)) throw error;
      if (count === 1) {
        failedRows.push(first);
        return;
      }
      const half = Math.ceil(count / 2);
      await attempt(first, half);
      await attempt(first + half, count - half);
    }
  };
  try {
    scores.set(await model.score(features, rows, timing));
  } catch (error) {
    if (!isRunFailure(error) || rows === 1) throw error;
    await attempt(0, rows);
    if (failedRows.length === rows) throw error;
  }
  return { scores, failedRows };
}

export function createScoringPipeline(options: ScoringPipelineOptions): ScoringPipeline {
  const { inputCodec, outputCodec, engine, variant } = options;

  return {
    async scoreBatch(batch, traceparentFor) {
      const { messages } = batch;
      const accepted: KafkaMessage[] = [];
      const records: DecodedRecord[] = [];
      const deadLetters: Message[] = [];
      const reject = (message: KafkaMessage, error: BadRecordError) => {
        deadLetters.push(toDeadLetter(message, batch, error));
        if (recordRejected.hasSubscribers) {
          const rejected: RecordRejected = {
            topic: batch.topic,
            partition: batch.partition,
            offset: message.offset,
            error,
          };
          recordRejected.publish(rejected);
        }
      };

      // One lease for the whole batch: its features and scores come from one model version, which stays
      // loaded until the lease is returned even if a new version is swapped in meanwhile.
      const model = engine.acquire();
      const inference: InferenceTiming = {};
      let scored: Scored;
      let decodedAt: number;
      try {
        const featureRows = new Float32Array(messages.length * model.features.width);
        for (const message of messages) {
          try {
            const record = inputCodec.decode(message.value);
            model.features.extractInto(record, featureRows, records.length);
            accepted.push(message);
            records.push(record);
          } catch (error) {
            if (!isBadRecord(error)) throw error;
            reject(message, error);
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
      const predictions: Message[] = [];
      const eventTimes: number[] = [];
      for (let row = 0; row < records.length; row++) {
        const message = accepted[row]!;
        if (failed.has(row)) {
          reject(
            message,
            new BadRecordError('INFERENCE_RECORD_FAILED', `${model.id} raised an error on this record`),
          );
          continue;
        }
        const prediction = toPrediction(records[row] as unknown as ScoredEvent, scored.scores[row]!, context);
        const traceparent = traceparentFor?.(message);
        predictions.push({
          key: message.key,
          value: outputCodec.encode(prediction),
          ...(traceparent ? { headers: { traceparent } } : {}),
        });
        eventTimes.push(prediction.event_time);
      }
      return {
        predictions,
        deadLetters,
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
