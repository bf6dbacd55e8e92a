/**
 * Wires one streamscore process together from its configuration: loads and verifies the schemas and the
 * model, checks the topics, then runs the consumer group. Everything is checked before the first record
 * is fetched, so a misconfiguration fails at start with one clear message instead of dead-lettering the
 * stream.
 */
import { type AdminServer, modelRoutes, startAdminServer } from '../admin/index.js';
import { type AvroCodec, createAvroCodec, loadAvroSchema } from '../codec/index.js';
import type { Config } from '../config/index.js';
import { ConfigurationError, StreamscoreError } from '../errors/index.js';
import type { DecodedRecord } from '../features/index.js';
import { createExecutor, createModelEngine, type ModelEngine } from '../inference/index.js';
import {
  consumeBatches,
  createAtLeastOnceDelivery,
  createExactlyOnceDelivery,
  createKafkaClient,
  type Delivery,
  requireTopics,
  retryUntilDone,
} from '../kafka/index.js';
import { createScoringPipeline } from '../pipeline/index.js';
import type { Prediction } from '../routing/index.js';
import {
  disabledTelemetry,
  type Logger,
  observePipeline,
  type PipelineCounters,
  registerPipelineMetrics,
  startBatchSpan,
  type Telemetry,
} from '../telemetry/index.js';
import { healthRoutes, type Readiness, trackReadiness } from './health.js';
import { deployInitialVersion, type ModelUpdates, watchModelRepository } from './model-updates.js';

export interface RunningService {
  readonly counters: Readonly<PipelineCounters>;
  readonly engine: ModelEngine;
  readonly modelUpdates: ModelUpdates;
  readonly readiness: Readiness;
  /** Base URL of the admin HTTP server. */
  readonly adminUrl: string;
  /**
   * Stops fetching, lets the batches in flight finish (or drops them uncommitted when they cannot finish),
   * leaves the group and releases the model, within shutdown.timeoutMs; rejects past the deadline.
   */
  stop(): Promise<void>;
}

export interface ServiceOptions {
  /** Called when the consumer stops for good (kafkajs gave up restarting it); the process should exit. */
  onFatal?: (error: Error) => void;
  /** Tracer and meter; none by default. */
  telemetry?: Telemetry;
  /** Reported as streamscore_build_info. */
  version?: string;
}

const REQUIRED_INPUT_FIELDS = ['event_id', 'event_time'];

function requireFields(codec: AvroCodec<DecodedRecord>, path: string): void {
  const fields = new Set(
    (codec.type as unknown as { fields: { name: string }[] }).fields?.map((f) => f.name),
  );
  const missing = REQUIRED_INPUT_FIELDS.filter((field) => !fields.has(field));
  if (missing.length > 0) {
    throw new ConfigurationError(
      'SCHEMA_INVALID',
      `input schema ${path} lacks ${missing.join(', ')}, which predictions carry`,
    );
  }
}

const isInfrastructureFailure = (error: unknown) =>
  error instanceof StreamscoreError && error.disposition === 'infrastructure';

function withDeadline(work: Promise<void>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StreamscoreError('SHUTTING_DOWN', `graceful stop exceeded ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

export async function startService(
  config: Config,
  logger: Logger,
  options: ServiceOptions = {},
): Promise<RunningService> {
  const inputCodec = createAvroCodec<DecodedRecord>(loadAvroSchema(config.input.schema));
  requireFields(inputCodec, config.input.schema);
  const outputCodec = createAvroCodec<Prediction>(loadAvroSchema(config.output.schema));

  const { model } = config;
  const executor = createExecutor({ workers: model.workers, intraOpThreads: model.intraOpThreads });
  const engine = createModelEngine(model.name, inputCodec.type, executor, {
    batching: { maxBatchSize: model.maxBatchSize, maxDelayMicros: model.maxDelayMicros },
    cache: model.cacheEnabled ? { maxEntries: model.cacheMaxEntries, ttlMs: model.cacheTtlMs } : undefined,
  });
  const stopping = new AbortController();
  const telemetry = options.telemetry ?? disabledTelemetry();
  const readiness = trackReadiness(config.health.stallTimeoutMs, () => engine.status().serving !== undefined);
  const health = healthRoutes(readiness);
  const metrics = registerPipelineMetrics(telemetry.meter, {
    inputTopic: config.input.topic,
    inferenceRows: () => [{ model: model.name, ...engine.rowsInInference() }],
    servingVersions: () => {
      const version = engine.status().serving?.version;
      return version === undefined ? [] : [{ model: model.name, version }];
    },
    version: options.version ?? 'unknown',
  });
  const retry = {
    initialMs: config.output.retryInitialMs,
    maxMs: config.output.retryMaxMs,
    signal: stopping.signal,
    onRetry: (error: unknown, attempt: number, waitMs: number) => {
      readiness.failing('delivery', error instanceof Error ? error.message : String(error));
      logger.warn({ err: error, attempt, waitMs }, 'infrastructure failure; retrying');
    },
  };
  let admin: AdminServer | undefined;
  let modelUpdates: ModelUpdates | undefined;

  const kafka = createKafkaClient(config.kafka, logger);
  const kafkaAdmin = kafka.admin();
  const consumer = kafka.consumer({
    groupId: config.input.groupId,
    allowAutoTopicCreation: false,
    sessionTimeout: config.input.sessionTimeoutMs,
    maxBytesPerPartition: config.input.maxBytesPerPartition,
  });
  const deliveryOptions = {
    inputTopic: config.input.topic,
    outputTopic: config.output.topic,
    deadLetterTopic: config.deadLetter.topic,
    groupId: config.input.groupId,
    compression: config.output.compression,
    retry,
  };
  const delivery: Delivery = config.output.exactlyOnce
    ? createExactlyOnceDelivery(kafka, deliveryOptions)
    : createAtLeastOnceDelivery(kafka, deliveryOptions);
  const observer = observePipeline(logger);

  // The consumer goes first: its disconnect waits for the batches in flight, which still need delivery.
  const release = async () => {
    modelUpdates?.stop();
    await Promise.allSettled([consumer.disconnect(), kafkaAdmin.disconnect()]);
    await delivery.close();
    await admin?.close();
    await engine.close();
    await executor.close();
    observer.close();
    metrics.close();
    health.close();
  };

  try {
    await deployInitialVersion(engine, model);
    const serving = engine.status().serving;
    logger.info({ model: model.name, version: serving?.version, workers: executor.threads }, 'model loaded');
    modelUpdates = watchModelRepository(engine, model, logger);
    admin = await startAdminServer(config.admin.host, config.admin.port, [
      ...health.routes,
      ...modelRoutes([engine]),
      {
        method: 'GET',
        path: '/metrics',
        handle: async () => {
          const text = await telemetry.scrape();
          return text === undefined
            ? { status: 404, body: { error: 'metrics are not collected in this process' } }
            : { status: 200, body: text, contentType: 'text/plain; version=0.0.4; charset=utf-8' };
        },
      },
    ]);

    await kafkaAdmin.connect();
    await requireTopics(kafkaAdmin, [config.input.topic, config.output.topic, config.deadLetter.topic]);
    await kafkaAdmin.disconnect();
    await consumer.connect();
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const partitions = payload.memberAssignment[config.input.topic] ?? [];
      readiness.assigned(partitions);
      void delivery.assigned(partitions);
      logger.info(
        { memberId: payload.memberId, assignment: payload.memberAssignment },
        'joined consumer group',
      );
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      readiness.failing('consumer', payload.error.message);
      if (payload.restart) {
        logger.warn({ err: payload.error }, 'consumer crashed on a retriable error; kafkajs restarts it');
        return;
      }
      logger.error({ err: payload.error }, 'consumer crashed and will not restart');
      options.onFatal?.(payload.error);
    });

    const pipeline = createScoringPipeline({ inputCodec, outputCodec, engine, variant: model.variant });
    await consumeBatches(consumer, {
      topic: config.input.topic,
      fromBeginning: config.input.fromBeginning,
      partitionsConsumedConcurrently: config.input.partitionsConsumedConcurrently,
      backpressure: {
        saturated: () => engine.pendingRows >= model.maxQueuedRows,
        relieved: () => engine.pendingRows < model.maxQueuedRows / 2,
        onChange: (paused) =>
          logger.info(
            { paused, pendingRows: engine.pendingRows },
            paused ? 'consumer paused' : 'consumer resumed',
          ),
      },
      // The seam where a batch is traced and timed end to end; the stages below only report instants.
      handleBatch: async (batch, control) => {
        const span = startBatchSpan(
          telemetry.tracer,
          { ...batch, groupId: config.input.groupId, outputTopic: config.output.topic },
          batch.fetchedAt,
        );
        try {
          const output = await retryUntilDone(() => pipeline.scoreBatch(batch, span.traceparentFor), {
            ...retry,
            isFinal: (error) => !isInfrastructureFailure(error),
          });
          const publishStartedAt = performance.now();
          await delivery.deliver(
            {
              ...batch,
              records: batch.messages.length,
              lastTimestamp: batch.messages.at(-1)?.timestamp,
              ...output,
            },
            control,
          );
          const publishedAt = performance.now();
          span.end(
            { fetchedAt: batch.fetchedAt, ...output.timing, publishStartedAt, publishedAt },
            output.model,
          );
          metrics.recordEndToEnd(output.eventTimes, Date.now());
          readiness.delivered(
            batch.partition,
            Number(BigInt(batch.highWatermark) - BigInt(batch.lastOffset) - 1n),
          );
        } catch (error) {
          span.fail(error);
          throw error;
        }
      },
    });
  } catch (error) {
    await release();
    throw error;
  }
  logger.info(
    { topic: config.input.topic, group: config.input.groupId, output: config.output.topic, admin: admin.url },
    'scoring',
  );

  return {
    counters: observer.counters,
    engine,
    modelUpdates,
    readiness,
    adminUrl: admin.url,
    stop: () => {
      stopping.abort();
      readiness.stopping();
      return withDeadline(release(), config.shutdown.timeoutMs);
    },
  };
}
