/**
 * The serving side of one model: which version answers, the versions kept warm beside it, and the swap
 * between them. A pipeline batch leases the serving version once and uses it for features, scores and
 * routing, so one batch never mixes versions; a version taken out of service is released only after its
 * last lease is returned and its batcher has drained.
 */
import type avro from 'avsc';
import { ConfigurationError } from '../errors/index.js';
import { compileFeatureExtractor, type FeatureExtractor, type FeatureRows } from '../features/index.js';
import type { ModelArtifact, ModelManifest } from '../models/index.js';
import { type ModelSwapped, modelSwapped } from '../telemetry/index.js';
import type { BatchingOptions, InferenceTiming } from './batcher.js';
import { type CacheOptions, createPredictionCache, type PredictionCache } from './cache.js';
import { createDeployment, type Deployment } from './deployment.js';
import type { Executor } from './executor.js';

/** A lease on the serving version; return it with release() when the batch is done with it. */
export interface ServingModel {
  readonly id: string;
  readonly manifest: ModelManifest;
  readonly features: FeatureExtractor;
  /** Scores rows through the shared micro-batcher and the prediction cache. */
  score(features: FeatureRows, rows: number, timing?: InferenceTiming): Promise<Float32Array>;
  /**
   * Scores rows in one inference call of their own, straight on the executor: never merged with another
   * request's rows, never cached. Takes ownership of `features`' buffer. For isolating failures.
   */
  scoreAlone(features: FeatureRows, rows: number): Promise<Float32Array>;
  /** Scores the row the version warmed up with, in a call of its own: rejects when the model no longer runs. */
  probe(): Promise<void>;
  release(): void;
}

export interface EngineOptions {
  batching: Omit<BatchingOptions, 'maxInFlight'>;
  /** Absent: no prediction cache for this model. */
  cache?: CacheOptions | undefined;
}

export interface VersionStatus {
  version: string;
  sha256: string;
  deployedAt: string;
}

export interface ModelStatus {
  name: string;
  serving: VersionStatus | undefined;
  /** The version a rollback returns to, kept loaded. */
  standby: VersionStatus | undefined;
  /** Versions rolled back from: the repository watcher does not load them again. */
  refused: string[];
  pendingRows: number;
  cachedPredictions: number;
}

export interface ModelEngine {
  readonly name: string;
  deploy(artifact: ModelArtifact): Promise<void>;
  acquire(): ServingModel;
  rollback(): Promise<{ from: string; to: string }>;
  isRefused(version: string): boolean;
  /** Rows queued for or in inference, across the versions still loaded. */
  readonly pendingRows: number;
  /** The same rows, told apart: waiting for an inference call, or in one. */
  rowsInInference(): { queued: number; running: number };
  status(): ModelStatus;
  close(): Promise<void>;
}

export function createModelEngine(
  name: string,
  inputType: avro.Type,
  executor: Executor,
  options: EngineOptions,
): ModelEngine {
  const cache: PredictionCache | undefined = options.cache ? createPredictionCache(options.cache) : undefined;
  // Two batches per worker keep a worker busy while the main thread hands back the previous result.
  const maxInFlight = Math.max(1, executor.threads * 2);
  const refused = new Set<string>();
  let serving: Deployment | undefined;
  let standby: Deployment | undefined;
  let deployments = 0;

  const releaseIfIdle = async (deployment: Deployment) => {
    if (!deployment.retired || deployment.leases > 0) return;
    await deployment.batcher.drain();
    await executor.release(deployment.executorKey);
  };

  const retire = async (deployment: Deployment | undefined) => {
    if (!deployment) return;
    deployment.retired = true;
    await releaseIfIdle(deployment);
  };

  const announce = (from: Deployment | undefined, to: Deployment, reason: ModelSwapped['reason']) => {
    if (modelSwapped.hasSubscribers) {
      modelSwapped.publish({
        model: name,
        from: from?.manifest.version,
        to: to.manifest.version,
        reason,
      } satisfies ModelSwapped);
    }
  };

  const versionStatus = (deployment: Deployment | undefined): VersionStatus | undefined =>
    deployment && {
      version: deployment.manifest.version,
      sha256: deployment.manifest.sha256,
      deployedAt: deployment.deployedAt.toISOString(),
    };

  return {
    name,

    async deploy(artifact) {
      const { manifest } = artifact;
      if (manifest.name !== name) {
        throw new ConfigurationError(
          'MODEL_MANIFEST_INVALID',
          `manifest names model ${manifest.name}, expected ${name}`,
        );
      }
      const executorKey = `${manifest.name}@${manifest.version}#${++deployments}`;
      const features = compileFeatureExtractor(manifest.features, inputType, manifest.inputs[0]!.type);
      await executor.load(executorKey, artifact);
      const deployment = createDeployment({
        name,
        executorKey,
        manifest,
        features,
        executor,
        batching: { ...options.batching, maxInFlight },
        cache,
      });
      const previous = serving;
      void retire(standby);
      standby = previous;
      serving = deployment;
      refused.delete(manifest.version);
      announce(previous, deployment, previous ? 'new-version' : 'initial');
    },

    acquire() {
      const deployment = serving;
      if (!deployment)
        throw new ConfigurationError('MODEL_MANIFEST_INVALID', `no version of ${name} is deployed`);
      deployment.leases += 1;
      let released = false;
      return {
        id: deployment.id,
        manifest: deployment.manifest,
        features: deployment.features,
        score: deployment.score,
        scoreAlone: deployment.scoreAlone,
        probe: deployment.probe,
        release() {
          if (released) return;
          released = true;
          deployment.leases -= 1;
          void releaseIfIdle(deployment);
        },
      };
    },

    async rollback() {
      if (!serving || !standby) {
        throw new ConfigurationError(
          'MODEL_MANIFEST_INVALID',
          `${name} has no previous version to roll back to`,
        );
      }
      const from = serving;
      serving = standby;
      standby = undefined;
      refused.add(from.manifest.version);
      void retire(from);
      announce(from, serving, 'rollback');
      return { from: from.manifest.version, to: serving.manifest.version };
    },

    isRefused: (version) => refused.has(version),

    get pendingRows() {
      return (serving?.batcher.pendingRows ?? 0) + (standby?.batcher.pendingRows ?? 0);
    },

    rowsInInference() {
      const batchers = [serving?.batcher, standby?.batcher];
      return {
        queued: batchers.reduce((rows, batcher) => rows + (batcher?.queuedRows ?? 0), 0),
        running: batchers.reduce((rows, batcher) => rows + (batcher?.runningRows ?? 0), 0),
      };
    },

    status() {
      return {
        name,
        serving: versionStatus(serving),
        standby: versionStatus(standby),
        refused: [...refused],
        pendingRows: this.pendingRows,
        cachedPredictions: cache?.size ?? 0,
      };
    },

    async close() {
      const closing = [serving, standby];
      serving = undefined;
      standby = undefined;
      await Promise.all(closing.map(retire));
    },
  };
}
