/**
 * The serving side of one model: which version answers, the versions kept warm beside it, and the swap
 * between them. A pipeline batch leases the serving version once and uses it for features, scores and
 * routing, so one batch never mixes versions; a version taken out of service is released only after its
 * last lease is returned and its batcher has drained.
 */
import type avro from 'avsc';
import { ConfigurationError } from '../errors/index.js';
import { compileFeatureExtractor, type FeatureExtractor } from '../features/index.js';
import type { ModelArtifact, ModelManifest } from '../models/index.js';
import {
  type ModelSwapped,
  modelSwapped,
  type PredictionCacheLookup,
  predictionCacheLookup,
} from '../telemetry/index.js';
import {
  type BatchingOptions,
  createMicroBatcher,
  type InferenceTiming,
  type MicroBatcher,
} from './batcher.js';
import { type CacheOptions, createPredictionCache, type PredictionCache } from './cache.js';
import type { Executor } from './executor.js';

/** A lease on the serving version; return it with release() when the batch is done with it. */
export interface ServingModel {
  readonly id: string;
  readonly manifest: ModelManifest;
  readonly features: FeatureExtractor;
  score(features: Float32Array, rows: number, timing?: InferenceTiming): Promise<Float32Array>;
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

interface Deployment {
  id: string;
  /** Unique per deployment, so redeploying a version never collides with the copy being retired. */
  executorKey: string;
  manifest: ModelManifest;
  features: FeatureExtractor;
  batcher: MicroBatcher;
  deployedAt: Date;
  leases: number;
  retired: boolean;
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

  const scoreWith = (deployment: Deployment) => {
    const width = deployment.features.width;
    const key = `${deployment.manifest.version}\u0000`;
    return async (features: Float32Array, rows: number, timing?: InferenceTiming): Promise<Float32Array> => {
      if (!cache) return deployment.batcher.submit(features, rows, timing);
      const scores = new Float32Array(rows);
      const misses = cache.lookup(key, features, rows, width, scores);
      if (predictionCacheLookup.hasSubscribers) {
        predictionCacheLookup.publish({
          model: name,
          version: deployment.manifest.version,
          hits: rows - misses.length,
          misses: misses.length,
        } satisfies PredictionCacheLookup);
      }
      if (misses.length === 0) return scores;
      let missFeatures = features;
      if (misses.length < rows) {
        missFeatures = new Float32Array(misses.length * width);
        for (const [index, row] of misses.entries()) {
          missFeatures.set(features.subarray(row * width, (row + 1) * width), index * width);
        }
      }
      const missScores = await deployment.batcher.submit(missFeatures, misses.length, timing);
      cache.store(key, features, misses, width, missScores);
      for (const [index, row] of misses.entries()) scores[row] = missScores[index]!;
      return scores;
    };
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
      const id = `${manifest.name}@${manifest.version}`;
      const executorKey = `${id}#${++deployments}`;
      const features = compileFeatureExtractor(manifest.features, inputType);
      await executor.load(executorKey, artifact);
      const deployment: Deployment = {
        id,
        executorKey,
        manifest,
        features,
        batcher: createMicroBatcher(
          { model: name, version: manifest.version },
          features.width,
          (rows, count) => executor.score(executorKey, rows, count),
          {
            ...options.batching,
            maxInFlight,
          },
        ),
        deployedAt: new Date(),
        leases: 0,
        retired: false,
      };
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
        score: scoreWith(deployment),
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
