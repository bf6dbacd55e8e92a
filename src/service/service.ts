/**
 * Wires one streamscore process together from its configuration: loads and verifies the schemas and the
 * model, checks the topics, then joins the consumer group. Everything is checked before the first record
 * is fetched, so a misconfiguration fails at start with one clear message instead of dead-lettering the
 * stream.
 */

import type avro from 'avsc';
import { type AdminRoute, type AdminServer, metricsRoute, startAdminServer } from '../admin/index.js';
import type { Config } from '../config/index.js';
import type { Deployments } from '../deployments/index.js';
import { ConfigurationError, StreamscoreError } from '../errors/index.js';
import { createExecutor, createModelPool, type ModelPool } from '../inference/index.js';
import { createDelivery, createGroupMember, type ProcessMembership, requireTopics } from '../kafka/index.js';
import { createBatchAlerts, createBatchHandler, createScoringPipeline } from '../pipeline/index.js';
import { createAlertEncoder } from '../routing/index.js';
import {
  disabledTelemetry,
  type Logger,
  observePipeline,
  type PipelineCounters,
  registerPipelineMetrics,
  type Telemetry,
} from '../telemetry/index.js';
import { openCodecs } from './codecs.js';
import { type ServiceDeployments, startDeployments } from './deployments.js';
import { healthRoutes, type Readiness, trackReadiness } from './health.js';
import { type ServiceMonitoring, startMonitoring } from './monitoring.js';

export interface RunningService {
  readonly counters: Readonly<PipelineCounters>;
  readonly pool: ModelPool;
  readonly deployments: Deployments;
  readonly readiness: Readiness;
  /** Base URL of the admin HTTP server serving the routes. */
  readonly adminUrl: string;
  /** What the admin server serves: health, metrics, models. */
  readonly routes: readonly AdminRoute[];
  /**
   * Stops fetching, lets the batches in flight finish (or drops them uncommitted when they cannot finish),
   * leaves the group and releases the model, within shutdown.timeoutMs; rejects past the deadline.
   */
  stop(): Promise<void>;
}

export interface ServiceOptions {
  /**
   * The process cannot go on: kafkajs gave up restarting the consumer, or a mistake in the code reached a
   * batch. Offsets are where they were; the process should exit non-zero and be restarted.
   */
  onFatal?: (error: Error) => void;
  /** Tracer and meter; none by default. */
  telemetry?: Telemetry;
  /** Reported as streamscore_build_info. */
  version?: string;
  /** Aborting it while the service starts stops it (SIGTERM while joining the group): start rejects. */
  signal?: AbortSignal;
  /**
   * Where the process serves this service's routes, when it runs as one loop of several and answers for
   * all of them; without it, the service starts an admin server of its own.
   */
  routesServedAt?: string;
  /**
   * Awaited once everything is loaded, just before joining the group: several loops of one process join
   * together, so the group forms once with all of them instead of rebalancing as each arrives.
   */
  beforeJoin?: () => Promise<void>;
  /** The process this service is a loop of (group.ts); by default a process of its own, with one loop. */
  process?: ProcessMembership;
}

const REQUIRED_INPUT_FIELDS = ['event_id', 'event_time'];

function requireFields(type: avro.Type, origin: string): void {
  const fields = new Set((type as unknown as { fields: { name: string }[] }).fields?.map((f) => f.name));
  const missing = REQUIRED_INPUT_FIELDS.filter((field) => !fields.has(field));
  if (missing.length > 0) {
    throw new ConfigurationError(
      'SCHEMA_INVALID',
      `input schema ${origin} lacks ${missing.join(', ')}, which predictions carry`,
    );
  }
}

/** What /readyz names as failing while a batch is retried. */
const failingComponent = (error: unknown) =>
  error instanceof StreamscoreError && error.code === 'REGISTRY_UNAVAILABLE' ? 'schema registry' : 'delivery';

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
  const codecs = await openCodecs(config, logger);
  requireFields(codecs.input.type, codecs.inputOrigin);
  // Records decode only what predictions and the loaded versions' features read (src/codec/projection.ts).
  codecs.input.readFields(REQUIRED_INPUT_FIELDS);

  const { model } = config;
  const executor = createExecutor({ workers: model.workers, intraOpThreads: model.intraOpThreads });
  const pool = createModelPool(codecs.input.type, executor, {
    batching: { maxBatchSize: model.maxBatchSize, maxDelayMicros: model.maxDelayMicros },
    cache: model.cacheEnabled ? { maxEntries: model.cacheMaxEntries, ttlMs: model.cacheTtlMs } : undefined,
    readFields: (fields) => codecs.input.readFields(fields),
  });
  const stopping = new AbortController();
  const telemetry = options.telemetry ?? disabledTelemetry();
  let deployments: Deployments | undefined;
  const readiness = trackReadiness(config.health.stallTimeoutMs, () => deployments !== undefined);
  const health = healthRoutes(readiness);
  const metrics = registerPipelineMetrics(telemetry.meter, {
    inputTopic: config.input.topic,
    inferenceRows: () => pool.rowsInInference(),
    servingVersions: () => {
      const champion = deployments?.controller.plan().champion;
      return pool.loaded().filter(({ id }) => id === champion);
    },
    version: options.version ?? 'unknown',
  });
  const retry = {
    initialMs: config.output.retryInitialMs,
    maxMs: config.output.retryMaxMs,
    signal: stopping.signal,
    onRetry: (error: unknown, attempt: number, waitMs: number) => {
      readiness.failing(failingComponent(error), error instanceof Error ? error.message : String(error));
      logger.warn({ err: error, attempt, waitMs }, 'infrastructure failure; retrying');
    },
  };
  const fatal = (error: Error, message: string) => {
    logger.error({ err: error }, message);
    options.onFatal?.(error);
  };
  let admin: AdminServer | undefined;
  let routes: AdminRoute[] = [];

  const delivery = createDelivery(config.kafka, logger, {
    groupId: config.input.groupId,
    inputTopic: config.input.topic,
    compression: config.output.compression,
    exactlyOnce: config.output.exactlyOnce,
    retry,
  });
  const member = createGroupMember(config.kafka, logger, {
    ...config.input,
    process: options.process,
    onAssigned: (partitions) => {
      readiness.assigned(partitions);
      metrics.assigned(partitions);
      void delivery.assigned(partitions);
    },
    onCrash: (error, restarting) => {
      readiness.failing('consumer', error.message);
      if (restarting)
        logger.warn({ err: error }, 'consumer crashed on a retriable error; kafkajs restarts it');
      else fatal(error, 'consumer crashed and will not restart');
    },
  });
  const observer = observePipeline(logger);
  let started: ServiceDeployments | undefined;
  let monitoring: ServiceMonitoring | undefined;

  let joined = false;
  // The consumer goes first: its disconnect waits for the batches in flight, which still need delivery.
  // Commits sent before the stop are waited for first: batches handled from here on wait for their own.
  // A member still joining holds no partition and no batch, and its disconnect would wait for the
  // JoinGroup answer (held up to the rebalance timeout while a dead member's session runs out): not awaited.
  let released: Promise<void> | undefined;
  const release = () => {
    released ??= (async () => {
      stopping.abort();
      readiness.stopping();
      await delivery.settle();
      if (joined) await member.disconnect();
      else void member.disconnect();
      await delivery.close();
      await monitoring?.close();
      await started?.close();
      await admin?.close();
      await pool.close();
      await executor.close();
      codecs.close();
      observer.close();
      metrics.close();
      health.close();
    })();
    return released;
  };
  const stop = () => withDeadline(release(), config.shutdown.timeoutMs);
  // Every step of the start gives way to the signal, the join above all: it can wait for minutes.
  let abortStart: (error: Error) => void = () => undefined;
  const startAborted = new Promise<never>((_, reject) => {
    abortStart = reject;
  });
  startAborted.catch(() => undefined);
  const onAbort = () => abortStart(new StreamscoreError('SHUTTING_DOWN', 'stopped while starting'));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  const unlessStopped = <T>(step: Promise<T>) => Promise.race([step, startAborted]);

  try {
    const topics = [config.input.topic, config.output.topic, config.deadLetter.topic];
    if (codecs.alerts) topics.push(config.monitoring.alertsTopic);
    await unlessStopped(requireTopics(config.kafka, logger, topics));
    monitoring = await unlessStopped(startMonitoring(config, codecs, telemetry, logger));
    started = await unlessStopped(startDeployments(config, pool, telemetry, logger, monitoring));
    const opened = started.deployments;
    deployments = opened;
    const champion = opened.controller.status();
    logger.info(
      { model: champion.champion, revision: champion.state.revision, workers: executor.threads },
      'model loaded',
    );
    routes = [...health.routes, ...started.routes, metricsRoute(() => telemetry.scrape())];
    if (!options.routesServedAt) admin = await unlessStopped(startAdminServer(config.admin, routes, logger));

    const pipeline = createScoringPipeline({
      inputCodec: codecs.input,
      outputCodec: codecs.predictions,
      comparisonCodec: codecs.comparisons,
      pool,
      plan: () => opened.controller.plan(),
      variant: model.variant,
      outputTopic: config.output.topic,
      deadLetterTopic: config.deadLetter.topic,
      comparisonTopic: config.experiments.comparisonTopic,
      challengers: config.experiments,
      alerts:
        codecs.alerts &&
        createBatchAlerts({
          encoder: createAlertEncoder(codecs.alerts),
          topic: config.monitoring.alertsTopic,
          reasonCodes: config.monitoring.reasonCodes,
        }),
    });
    if (options.beforeJoin) await unlessStopped(options.beforeJoin());
    await unlessStopped(
      member.run({
        backpressure: {
          saturated: () => pool.pendingDecisionRows >= model.maxQueuedRows,
          relieved: () => pool.pendingDecisionRows < model.maxQueuedRows / 2,
          onChange: (paused) =>
            logger.info(
              { paused, pendingRows: pool.pendingRows },
              paused ? 'consumer paused' : 'consumer resumed',
            ),
        },
        handleBatch: createBatchHandler({
          pipeline,
          delivery,
          tracer: telemetry.tracer,
          groupId: config.input.groupId,
          outputTopic: config.output.topic,
          retry,
          onDelivered: (batch, output) => {
            metrics.recordEndToEnd(output.eventTimes, Date.now());
            readiness.delivered(
              batch.partition,
              Number(BigInt(batch.highWatermark) - BigInt(batch.lastOffset) - 1n),
            );
          },
          onProgrammingError: (error) =>
            fatal(error, 'a batch hit a programming error; stopping with its offsets uncommitted'),
        }),
      }),
    );
    joined = true;
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  const adminUrl = options.routesServedAt ?? admin?.url ?? '';
  // A loop of several says it is in; the process says `scoring` once all its loops are.
  logger.info(
    { topic: config.input.topic, group: config.input.groupId, output: config.output.topic, admin: adminUrl },
    admin ? 'scoring' : 'loop scoring',
  );

  return {
    counters: observer.counters,
    pool,
    deployments,
    readiness,
    adminUrl,
    routes,
    stop,
  };
}
