/**
 * One deployed model version and the ways it scores. The usual way shares inference calls with every
 * other partition's rows (the micro-batcher) and skips the rows the prediction cache knows. Isolating a
 * failure needs the opposite: calls holding only the rows in question, straight on the executor, whose
 * scores are not cached (a row a model failed on never gets a cached score).
 */
import type { FeatureExtractor, FeatureRows } from '../features/index.js';
import type { ModelManifest } from '../models/index.js';
import { type PredictionCacheLookup, predictionCacheLookup } from '../telemetry/index.js';
import {
  type BatchingOptions,
  createMicroBatcher,
  type InferenceTiming,
  type MicroBatcher,
} from './batcher.js';
import type { PredictionCache } from './cache.js';
import type { Executor } from './executor.js';
import { warmUpRow } from './session.js';

export interface Deployment {
  id: string;
  /** Unique per deployment, so redeploying a version never collides with the copy being retired. */
  executorKey: string;
  manifest: ModelManifest;
  features: FeatureExtractor;
  batcher: MicroBatcher;
  deployedAt: Date;
  /** A shadow's version: its inference waits for an idle worker (see Executor.score). */
  background: boolean;
  /** Through the micro-batcher and the prediction cache. */
  score(features: FeatureRows, rows: number, timing?: InferenceTiming): Promise<Float32Array>;
  /** One inference call of these rows alone; takes ownership of `features`' buffer, as the executor does. */
  scoreAlone(features: FeatureRows, rows: number): Promise<Float32Array>;
  /** Scores the row the session warmed up with, alone: rejects when the model no longer runs. */
  probe(): Promise<void>;
}

export interface DeploymentOptions {
  /** The model's name, for telemetry. */
  name: string;
  executorKey: string;
  manifest: ModelManifest;
  features: FeatureExtractor;
  executor: Executor;
  batching: BatchingOptions;
  cache: PredictionCache | undefined;
}

export function createDeployment(options: DeploymentOptions): Deployment {
  const { name, executorKey, manifest, features, executor, cache } = options;
  const width = features.width;
  const batcher = createMicroBatcher(
    { model: name, version: manifest.version },
    width,
    (rows, count) => executor.score(executorKey, rows, count, deployment.background),
    options.batching,
  );
  // The model's name too: versions of different models (a challenger) share the cache.
  const cacheKey = `${manifest.name}@${manifest.version}\u0000`;

  const score = async (rows: FeatureRows, count: number, timing?: InferenceTiming): Promise<Float32Array> => {
    if (!cache) return batcher.submit(rows, count, timing);
    const scores = new Float32Array(count);
    const misses = cache.lookup(cacheKey, rows, count, width, scores);
    if (predictionCacheLookup.hasSubscribers) {
      predictionCacheLookup.publish({
        model: name,
        version: manifest.version,
        hits: count - misses.length,
        misses: misses.length,
      } satisfies PredictionCacheLookup);
    }
    if (misses.length === 0) return scores;
    if (misses.length === count) {
      // Nothing known: the batcher's scores are the answer as they come, with no array to merge them into.
      const missScores = await batcher.submit(rows, count, timing);
      cache.store(cacheKey, rows, misses, width, missScores);
      return missScores;
    }
    const missRows = features.allocateRows(misses.length);
    for (let index = 0; index < misses.length; index++) {
      const from = misses[index]! * width;
      const to = index * width;
      for (let column = 0; column < width; column++) missRows[to + column] = rows[from + column]!;
    }
    // The batcher writes each miss's score straight into its row, beside the hits.
    await batcher.submit(missRows, misses.length, timing, { scores, rows: misses });
    cache.store(cacheKey, rows, misses, width, scores);
    return scores;
  };

  const deployment: Deployment = {
    id: `${manifest.name}@${manifest.version}`,
    executorKey,
    manifest,
    features,
    batcher,
    deployedAt: new Date(),
    background: false,
    score,
    scoreAlone: (rows, count) => executor.score(executorKey, rows, count, deployment.background),
    async probe() {
      await executor.score(executorKey, warmUpRow(manifest), 1);
    },
  };
  return deployment;
}
