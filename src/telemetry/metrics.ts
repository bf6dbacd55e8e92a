/**
 * Metrics a team can alert on, in Prometheus' conventions: streamscore_ prefix, the base unit at the end
 * of the name (the Prometheus exporter does not append it), counters ending in _total once exported.
 * Per-model series carry `model` and `version` labels, and exist from the start at zero, so a rate or an
 * absent() alert works before the first cache hit or dead letter. They are fed from the pipeline's diagnostics channels and from a few
 * gauges read at scrape time, so the hot path only pays for a channel publish.
 */
import type { Attributes, BatchObservableCallback, Meter } from '@opentelemetry/api';
import { type ErrorCode, ErrorCodes } from '../errors/index.js';
import {
  type BatchPublished,
  batchPublished,
  type InferenceBatch,
  inferenceBatch,
  type PredictionCacheLookup,
  predictionCacheLookup,
  subscribe,
} from './events.js';

const BAD_RECORD_CODES = (Object.keys(ErrorCodes) as ErrorCode[]).filter(
  (code) => ErrorCodes[code] === 'bad-record',
);
const isDecodeError = (code: ErrorCode) => code.startsWith('RECORD_');

export interface MetricSources {
  /** The input topic, whose counters are created at zero. */
  inputTopic: string;
  /** Rows waiting for an inference call and rows in one, per model. */
  inferenceRows(): { model: string; queued: number; running: number }[];
  /** The version each model serves. */
  servingVersions(): { model: string; version: string }[];
  version: string;
}

export interface PipelineMetrics {
  /** Time from each event's event_time to its prediction's acknowledgement. */
  recordEndToEnd(eventTimesMs: readonly number[], publishedAtMs: number): void;
  /**
   * The group gave this member `partitions` of the input topic: the lag of any other is another member's to
   * report, and this one reports 0 for it (a process summing its loops' lag, or a dashboard summing
   * instances', would count it twice).
   */
  assigned(partitions: readonly number[]): void;
  close(): void;
}

const LATENCY_BUCKETS_SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];
const ROW_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384];

export function registerPipelineMetrics(meter: Meter, sources: MetricSources): PipelineMetrics {
  const recordsIn = meter.createCounter('streamscore.records.in', {
    description: 'Records consumed from the input topic.',
  });
  const predictionsOut = meter.createCounter('streamscore.predictions.out', {
    description: 'Predictions acknowledged by the brokers.',
  });
  const deadLettered = meter.createCounter('streamscore.dead.lettered', {
    description: 'Records set aside to the dead-letter topic, by error code.',
  });
  const decodeErrors = meter.createCounter('streamscore.decode.errors', {
    description: 'Records that failed Avro decoding.',
  });
  const inferenceErrors = meter.createCounter('streamscore.inference.errors', {
    description: 'Records the model raised an error on.',
  });
  const cacheHits = meter.createCounter('streamscore.cache.hits', { description: 'Prediction cache hits.' });
  const cacheMisses = meter.createCounter('streamscore.cache.misses', {
    description: 'Prediction cache misses.',
  });
  const batchRows = meter.createHistogram('streamscore.inference.batch.rows', {
    description: 'Rows per inference call.',
    advice: { explicitBucketBoundaries: ROW_BUCKETS },
  });
  const seconds = (name: string, description: string) =>
    meter.createHistogram(name, {
      description,
      unit: 's',
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS_SECONDS },
    });
  const batchWait = seconds(
    'streamscore.inference.batch.wait.seconds',
    'Time the oldest row of an inference batch waited for it.',
  );
  const inferenceDuration = seconds(
    'streamscore.inference.duration.seconds',
    'Time of an inference call: rows handed to a worker until their scores are back.',
  );
  const processing = seconds(
    'streamscore.batch.processing.seconds',
    'Time from a partition batch arriving to its output being acknowledged.',
  );
  const endToEnd = seconds(
    'streamscore.end_to_end.latency.seconds',
    "Time from an event's event_time to its prediction being acknowledged.",
  );

  // Lag per partition as of each partition's last delivered batch: high watermark minus next offset.
  const lag = new Map<
    string,
    { topic: string; partition: number; lag: number; lastTimestampMs: number | undefined }
  >();
  const consumerLag = meter.createObservableGauge('kafka.consumergroup.group.lag', {
    description:
      'Records between the last delivered offset and the end of the partition, as of its last batch.',
  });
  // Time lag, read at scrape time so a stuck partition's grows by itself: while records wait, the age of
  // the last delivered record, which the oldest waiting record cannot exceed.
  const consumerLagSeconds = meter.createObservableGauge('kafka.consumergroup.group.lag.seconds', {
    description:
      'While records wait on a partition, the age of the last record delivered from it (0 when caught up).',
    unit: 's',
  });
  const queuedRows = meter.createObservableGauge('streamscore.inference.queued.rows', {
    description: 'Rows waiting for an inference call.',
  });
  const runningRows = meter.createObservableGauge('streamscore.inference.running.rows', {
    description: 'Rows in inference calls under way.',
  });
  const serving = meter.createObservableGauge('streamscore.model.serving', {
    description: 'The model version serving (value 1, version as a label).',
  });
  const buildInfo = meter.createObservableGauge('streamscore.build.info', {
    description: 'streamscore version (value 1).',
  });
  const servedOnce = new Map<string, { model: string; version: string }>();
  const observables = [consumerLag, consumerLagSeconds, queuedRows, runningRows, serving, buildInfo];
  const observe: BatchObservableCallback = (result) => {
    for (const entry of lag.values()) {
      const attributes = { topic: entry.topic, partition: String(entry.partition) };
      result.observe(consumerLag, entry.lag, attributes);
      const ageMs =
        entry.lag > 0 && entry.lastTimestampMs !== undefined
          ? Math.max(0, Date.now() - entry.lastTimestampMs)
          : 0;
      result.observe(consumerLagSeconds, ageMs / 1000, attributes);
    }
    for (const { model, queued, running } of sources.inferenceRows()) {
      result.observe(queuedRows, queued, { model });
      result.observe(runningRows, running, { model });
    }
    // The SDK keeps exporting a series it saw once, at its last value: a version that served and no longer
    // does is reported as 0, not left at 1.
    const servingNow = new Set<string>();
    for (const { model, version } of sources.servingVersions()) {
      const key = `${model}@${version}`;
      servingNow.add(key);
      servedOnce.set(key, { model, version });
      result.observe(serving, 1, { model, version });
    }
    for (const [key, attributes] of servedOnce)
      if (!servingNow.has(key)) result.observe(serving, 0, attributes);
    result.observe(buildInfo, 1, { version: sources.version });
  };
  meter.addBatchObservableCallback(observe, observables);

  const topic = sources.inputTopic;
  for (const counter of [recordsIn, predictionsOut, inferenceErrors]) counter.add(0, { topic });
  for (const code of BAD_RECORD_CODES) {
    deadLettered.add(0, { topic, code });
    if (isDecodeError(code)) decodeErrors.add(0, { topic, code });
  }

  const unsubscribers = [
    subscribe<BatchPublished>(batchPublished, (batch) => {
      const attributes: Attributes = { topic: batch.topic };
      recordsIn.add(batch.records, attributes);
      predictionsOut.add(batch.predictions, attributes);
      processing.record((batch.publishedAt - batch.fetchedAt) / 1000, attributes);
      // Dead letters are counted once delivered, like predictions: a batch retried or dropped uncommitted
      // is delivered again later, and its rejections with it.
      for (const [code, count] of batch.rejections ?? []) {
        deadLettered.add(count, { topic: batch.topic, code });
        if (isDecodeError(code)) decodeErrors.add(count, { topic: batch.topic, code });
        if (code === 'INFERENCE_RECORD_FAILED') inferenceErrors.add(count, attributes);
      }
      if (batch.highWatermark !== undefined) {
        const next = BigInt(batch.lastOffset) + 1n;
        lag.set(`${batch.topic}/${batch.partition}`, {
          topic: batch.topic,
          partition: batch.partition,
          lag: Math.max(0, Number(BigInt(batch.highWatermark) - next)),
          lastTimestampMs: batch.lastTimestampMs,
        });
      }
    }),
    subscribe<InferenceBatch>(inferenceBatch, ({ model, version, rows, waitMs, runMs }) => {
      batchRows.record(rows, { model, version });
      batchWait.record(waitMs / 1000, { model, version });
      inferenceDuration.record(runMs / 1000, { model, version });
    }),
    subscribe<PredictionCacheLookup>(predictionCacheLookup, ({ model, version, hits, misses }) => {
      cacheHits.add(hits, { model, version });
      cacheMisses.add(misses, { model, version });
    }),
  ];

  return {
    assigned(partitions) {
      // Kept as 0 rather than forgotten: the SDK would go on exporting the last value it saw.
      const owned = new Set(partitions);
      for (const entry of lag.values()) if (!owned.has(entry.partition)) entry.lag = 0;
    },
    recordEndToEnd(eventTimesMs, publishedAtMs) {
      for (const eventTime of eventTimesMs) endToEnd.record(Math.max(0, publishedAtMs - eventTime) / 1000);
    },
    close() {
      for (const unsubscribe of unsubscribers) unsubscribe();
      meter.removeBatchObservableCallback(observe, observables);
    },
  };
}
