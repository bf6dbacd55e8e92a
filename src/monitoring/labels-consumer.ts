/**
 * The ground-truth join inside the service: follows the predictions topic and the labels topic, decodes
 * them, feeds the join (labels.ts) and hands out each model version and variant's tally.
 *
 * Nothing is committed and nothing is kept on disk: at every start both topics are read again from
 * now − TTL, predictions up to where the topic ended first, then labels, so every prediction still within
 * its TTL is waiting before the labels that join it come, and the joins a previous run made are made
 * again. A restart loses no pending join, and the figures are those of the records within the TTL at the
 * start and after it, whoever ran before. Expiry waits until both topics are read up to their end at the
 * start: until then, the timestamps alone decide (labels.ts). After that it runs on the wall clock, so a
 * joiner lagging behind a topic by more than the TTL can expire what a label it has yet to read would join.
 */
import type { RecordDecoder } from '../codec/index.js';
import { packagePath } from '../config/index.js';
import { isBadRecord, StreamscoreError } from '../errors/index.js';
import {
  type FollowSinceOptions,
  followTopicSince,
  type InputRecord,
  type KafkaSettings,
  type SinceFollower,
} from '../kafka/index.js';
import type { Prediction } from '../routing/index.js';
import type { Logger } from '../telemetry/index.js';
import { type ClassLabelsOf, GroundTruthTallies, type GroundTruthTally, LabelClass } from './ground-truth.js';
import { type JoinBounds, type JoinCounts, LabelJoin } from './labels.js';

export const LABEL_SCHEMA_PATH = packagePath('schemas/label.avsc');

/** A record of schemas/label.avsc. */
export interface GroundTruthLabel {
  event_id: string;
  label: string;
  label_time: number;
  source: string;
}

export interface LabelJoinerOptions extends JoinBounds {
  /** The topic the service publishes its predictions to (output.topic). */
  predictionsTopic: string;
  labelsTopic: string;
  /** Plain Avro or the registry's wire format, as the topics are written. */
  predictionDecoder: RecordDecoder<Prediction>;
  labelDecoder: RecordDecoder<GroundTruthLabel>;
  /**
   * Which label is positive for a model version. Asked again for every prediction of a version it does not
   * know, so it must be a lookup in memory (or remember its misses).
   */
  classLabelsOf: ClassLabelsOf;
  /** Epoch milliseconds now; the wall clock unless a test says otherwise. */
  now?: () => number;
  /** Following a topic crashed (logged already); unless `restarting`, the join no longer follows it. */
  onCrash?(error: Error, restarting: boolean): void;
}

export interface LabelJoinerCounts extends JoinCounts {
  /** True until both topics are read up to where they ended at the start. */
  replaying: boolean;
  predictionsRead: number;
  labelsRead: number;
  undecodablePredictions: number;
  undecodableLabels: number;
  /** Predictions of a model version whose class labels classLabelsOf does not know: not joined. */
  unknownModelPredictions: number;
  /** Predictions whose label is neither class label of their model version: not joined. */
  unclassifiedPredictions: number;
}

export interface LabelJoiner {
  /**
   * Reads both topics from now − TTL and goes on following them; resolves once both are read up to where
   * they ended when it was called. Rejects if stopped first.
   */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Expires what is due (once replayed), then every model version and variant's tally. */
  tallies(): readonly GroundTruthTally[];
  counts(): LabelJoinerCounts;
}

export function createLabelJoiner(
  kafka: KafkaSettings,
  parentLogger: Logger,
  options: LabelJoinerOptions,
): LabelJoiner {
  const logger = parentLogger.child({ component: 'ground-truth' });
  const now = options.now ?? Date.now;
  const tallies = new GroundTruthTallies(options.classLabelsOf);
  const join = new LabelJoin(options, tallies);
  const read = {
    predictionsRead: 0,
    labelsRead: 0,
    undecodablePredictions: 0,
    undecodableLabels: 0,
    unknownModelPredictions: 0,
    unclassifiedPredictions: 0,
  };
  let replaying = true;
  let stopped = false;
  const followers: SinceFollower[] = [];
  const warned = new Set<string>();

  const warnOnce = (key: string, details: Record<string, unknown>, message: string) => {
    if (warned.has(key)) return;
    warned.add(key);
    logger.warn(details, `${message} (said once)`);
  };

  const decode = <T>(decoder: RecordDecoder<T>, record: InputRecord, topic: string): T | undefined => {
    try {
      return decoder.decode(record.value);
    } catch (error) {
      if (!isBadRecord(error)) throw error;
      warnOnce(`${topic}:${error.code}`, { topic, code: error.code }, 'skipping records that do not decode');
      return undefined;
    }
  };

  const joinPredictions = (records: readonly InputRecord[]) => {
    for (const record of records) {
      read.predictionsRead += 1;
      const prediction = decode(options.predictionDecoder, record, options.predictionsTopic);
      if (prediction === undefined) {
        read.undecodablePredictions += 1;
        continue;
      }
      const { model_name: model, model_version: version } = prediction;
      const index = tallies.indexOf(model, version, prediction.variant, prediction.threshold);
      if (index < 0) {
        read.unknownModelPredictions += 1;
        warnOnce(`model:${model}@${version}`, { model, version }, 'no class labels for this model version');
        continue;
      }
      const predicted = tallies.at(index).classOf(prediction.label);
      if (predicted === LabelClass.UNKNOWN) {
        read.unclassifiedPredictions += 1;
        warnOnce(
          `label:${model}@${version}`,
          { model, version },
          "predictions whose label is neither of the model version's class labels",
        );
        continue;
      }
      const arrivedAt = Number(record.timestamp);
      const positive = predicted === LabelClass.POSITIVE;
      join.addPrediction(prediction.event_id, index, positive, prediction.event_time, arrivedAt);
    }
    if (!replaying) join.expire(now());
  };

  const joinLabels = (records: readonly InputRecord[]) => {
    for (const record of records) {
      read.labelsRead += 1;
      const label = decode(options.labelDecoder, record, options.labelsTopic);
      if (label === undefined) {
        read.undecodableLabels += 1;
        continue;
      }
      join.addLabel(label.event_id, label.label, label.label_time, Number(record.timestamp));
    }
    if (!replaying) join.expire(now());
    if (join.snapshot().unknownLabels > 0) {
      warnOnce(
        'unknown-labels',
        { topic: options.labelsTopic },
        "skipping labels that are neither class label of their prediction's model",
      );
    }
  };

  /** Decoders that need the registry fetch a batch's writer schemas before its synchronous decode. */
  const handOver =
    <T>(decoder: RecordDecoder<T>, apply: (records: readonly InputRecord[]) => void) =>
    (records: readonly InputRecord[]): ReturnType<FollowSinceOptions['onRecords']> => {
      const preparing = decoder.prepare(records);
      if (preparing) return preparing.then(() => apply(records));
      apply(records);
      return undefined;
    };

  const follow = async (
    topic: string,
    role: string,
    fromMs: number,
    onRecords: FollowSinceOptions['onRecords'],
  ) => {
    const follower = await followTopicSince(kafka, logger, {
      topic,
      fromMs,
      role,
      onRecords,
      onCrash: (error, restarting) => {
        logger[restarting ? 'warn' : 'error']({ err: error, topic, restarting }, 'following a topic crashed');
        options.onCrash?.(error, restarting);
      },
    });
    if (stopped) {
      await follower.disconnect();
      throw new StreamscoreError('SHUTTING_DOWN', 'the ground-truth join was stopped while starting');
    }
    followers.push(follower);
    return follower;
  };

  const disconnectFollowers = async () => {
    await Promise.allSettled(followers.splice(0).map((follower) => follower.disconnect()));
  };

  const counts = (): LabelJoinerCounts => ({ ...join.snapshot(), ...read, replaying });

  return {
    async start() {
      const startedAt = now();
      const fromMs = startedAt - options.ttlMs;
      logger.info(
        { predictionsTopic: options.predictionsTopic, labelsTopic: options.labelsTopic, fromMs },
        'ground-truth join: replaying predictions and labels of the last TTL',
      );
      try {
        const predictions = await follow(
          options.predictionsTopic,
          'predictions',
          fromMs,
          handOver(options.predictionDecoder, joinPredictions),
        );
        await predictions.caughtUp;
        const labels = await follow(
          options.labelsTopic,
          'labels',
          fromMs,
          handOver(options.labelDecoder, joinLabels),
        );
        await labels.caughtUp;
      } catch (error) {
        // Half started (a topic missing, say) is not left following the other topic.
        await disconnectFollowers();
        throw error;
      }
      replaying = false;
      join.expire(now());
      logger.info({ ...counts(), replayMs: now() - startedAt }, 'ground-truth join: replayed, following');
    },
    async stop() {
      stopped = true;
      await disconnectFollowers();
    },
    tallies() {
      if (!replaying) join.expire(now());
      return tallies.all();
    },
    counts,
  };
}
