/**
 * The model versions this process has loaded, each under its id `name@version`, with its micro-batcher
 * and its share of the prediction cache. A mechanism only: which versions serve, and in which role, is
 * the deployments' business. A pipeline batch leases each version it uses once, for its features, scores
 * and records, so one batch never mixes versions; a version unloaded is let go only after its last lease
 * is returned and its batcher has drained.
 */
import type avro from 'avsc';
import { ConfigurationError } from '../errors/index.js';
import { compileFeatureExtractor, type FeatureExtractor, type FeatureRows } from '../features/index.js';
import type { ModelArtifact, ModelManifest } from '../models/index.js';
import type { BatchingOptions, InferenceTiming } from './batcher.js';
import { type CacheOptions, createPredictionCache, type PredictionCache } from './cache.js';
import { createDeployment, type Deployment } from './deployment.js';
import type { Executor } from './executor.js';
import { zeroSubnormalWeights } from './subnormal.js';

/** A lease on a loaded version; return it with release() when the batch is done with it. */
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

export interface PoolOptions {
  batching: Omit<BatchingOptions, 'maxInFlight'>;
  /** Absent: no prediction cache. */
  cache?: CacheOptions | undefined;
  /** Told the input fields a version's features read, before that version can be served. */
  readFields?(fields: readonly string[]): void;
}

export interface LoadedVersion {
  id: string;
  model: string;
  version: string;
  sha256: string;
  loadedAt: string;
}

export interface ModelPool {
  /**
   * Loads and verifies (checksum done by the caller; signature, warm-up here) a version; no-op if loaded.
   * Its subnormal weights are set to zero first (subnormal.ts); says how many there were.
   */
  load(artifact: ModelArtifact): Promise<{ zeroedWeights: number }>;
  isLoaded(id: string): boolean;
  /** Leases a loaded version for one batch. */
  acquire(id: string): ServingModel;
  /** Takes a version out: released once its last lease is returned and its queued rows are scored. */
  unload(id: string): void;
  /** A shadow's version runs in the background: its calls wait for an idle worker, behind decisions. */
  setBackground(id: string, background: boolean): void;
  loaded(): LoadedVersion[];
  /** Rows queued for or in inference, across every version still held. */
  readonly pendingRows: number;
  /**
   * The same, of the versions that decide (not running in the background): what backpressure measures.
   * Shadow rows can outlive the batch that queued them, so counting them could keep the consumer paused
   * with no batch left whose completion would resume it; shedding bounds them instead.
   */
  readonly pendingDecisionRows: number;
  /** Per model: rows waiting for an inference call, and rows in one. */
  rowsInInference(): { model: string; queued: number; running: number }[];
  readonly cachedPredictions: number;
  close(): Promise<void>;
}

interface Held {
  deployment: Deployment;
  leases: number;
  retired: boolean;
}

export const versionId = (model: string, version: string) => `${model}@${version}`;

export function createModelPool(inputType: avro.Type, executor: Executor, options: PoolOptions): ModelPool {
  const cache: PredictionCache | undefined = options.cache ? createPredictionCache(options.cache) : undefined;
  // Two batches per worker keep a worker busy while the main thread hands back the previous result.
  const maxInFlight = Math.max(1, executor.threads * 2);
  const serving = new Map<string, Held>();
  // Versions unloaded but still leased or draining: their rows count until they are let go.
  const retiring = new Set<Held>();
  let loads = 0;

  const releaseIfIdle = async (held: Held) => {
    if (!held.retired || held.leases > 0) return;
    await held.deployment.batcher.drain();
    await executor.release(held.deployment.executorKey);
    retiring.delete(held);
  };

  const everyHeld = () => [...serving.values(), ...retiring];

  return {
    async load(artifact) {
      const { manifest } = artifact;
      const id = versionId(manifest.name, manifest.version);
      if (serving.has(id)) return { zeroedWeights: 0 };
      // Unique per load, so loading a version again never collides with the copy being retired.
      const executorKey = `${id}#${++loads}`;
      const features = compileFeatureExtractor(manifest.features, inputType, manifest.inputs[0]!.type);
      const runnable = zeroSubnormalWeights(artifact.bytes);
      await executor.load(executorKey, { ...artifact, bytes: runnable.bytes });
      // Before the version can be served: a batch decodes after it leases its versions.
      options.readFields?.(features.fields);
      const deployment = createDeployment({
        name: manifest.name,
        executorKey,
        manifest,
        features,
        executor,
        batching: { ...options.batching, maxInFlight },
        cache,
      });
      serving.set(id, { deployment, leases: 0, retired: false });
      return { zeroedWeights: runnable.zeroedWeights };
    },

    isLoaded: (id) => serving.has(id),

    acquire(id) {
      const held = serving.get(id);
      if (!held) throw new ConfigurationError('MODEL_MANIFEST_INVALID', `model version ${id} is not loaded`);
      const { deployment } = held;
      held.leases += 1;
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
          held.leases -= 1;
          void releaseIfIdle(held);
        },
      };
    },

    unload(id) {
      const held = serving.get(id);
      if (!held) return;
      serving.delete(id);
      held.retired = true;
      retiring.add(held);
      void releaseIfIdle(held);
    },

    setBackground(id, background) {
      const held = serving.get(id);
      if (held) held.deployment.background = background;
    },

    loaded: () =>
      [...serving.values()].map(({ deployment: { id, manifest, deployedAt } }) => ({
        id,
        model: manifest.name,
        version: manifest.version,
        sha256: manifest.sha256,
        loadedAt: deployedAt.toISOString(),
      })),

    get pendingRows() {
      return everyHeld().reduce((rows, held) => rows + held.deployment.batcher.pendingRows, 0);
    },

    get pendingDecisionRows() {
      return everyHeld().reduce(
        (rows, held) => rows + (held.deployment.background ? 0 : held.deployment.batcher.pendingRows),
        0,
      );
    },

    rowsInInference() {
      const byModel = new Map<string, { model: string; queued: number; running: number }>();
      for (const { deployment } of everyHeld()) {
        const model = deployment.manifest.name;
        const rows = byModel.get(model) ?? { model, queued: 0, running: 0 };
        rows.queued += deployment.batcher.queuedRows;
        rows.running += deployment.batcher.runningRows;
        byModel.set(model, rows);
      }
      return [...byModel.values()];
    },

    get cachedPredictions() {
      return cache?.size ?? 0;
    },

    async close() {
      for (const id of [...serving.keys()]) this.unload(id);
      await Promise.all([...retiring].map(releaseIfIdle));
    },
  };
}
