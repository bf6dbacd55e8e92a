/**
 * The model pool with the real executors and onnxruntime: versions loaded side by side under their ids,
 * leases that keep a version alive past its unload, and the prediction cache they share.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadAvroSchema } from '../../src/codec/index.js';
import { packagePath } from '../../src/config/index.js';
import {
  createExecutor,
  createModelPool,
  type Executor,
  type ModelPool,
  versionId,
} from '../../src/inference/index.js';
import { readModelArtifact } from '../../src/models/index.js';
import { type PredictionCacheLookup, predictionCacheLookup, subscribe } from '../../src/telemetry/index.js';
import { readGolden } from '../support/golden.js';
import { MODEL_V1, MODEL_V2, publishVersion, temporaryRepository } from '../support/repository.js';

const inputType = loadAvroSchema(packagePath('schemas/card-transaction.avsc'));
const goldenV1 = readGolden('models/fraud-gbm/1');
const goldenV2 = readGolden('test/fixtures/models/fraud-gbm-v2/2');
const batching = { maxBatchSize: 64, maxDelayMicros: 200 };
const FRAUD_GBM_1 = versionId('fraud-gbm', '1');
const FRAUD_GBM_2 = versionId('fraud-gbm', '2');
const cleanups: (() => Promise<void>)[] = [];

/** Delegates to a real executor, recording which executor keys were released. */
function releaseRecordingExecutor(real: Executor): { executor: Executor; released: string[] } {
  const released: string[] = [];
  const executor: Executor = {
    threads: real.threads,
    load: (key, artifact) => real.load(key, artifact),
    score: (key, features, rows) => real.score(key, features, rows),
    async release(key) {
      released.push(key);
      await real.release(key);
    },
    close: () => real.close(),
  };
  return { executor, released };
}

function poolWith(
  workers: number,
  cache = true,
  readFields?: (fields: readonly string[]) => void,
): { pool: ModelPool; released: string[] } {
  const { executor, released } = releaseRecordingExecutor(createExecutor({ workers, intraOpThreads: 1 }));
  const pool = createModelPool(inputType, executor, {
    batching,
    cache: cache ? { maxEntries: 10_000, ttlMs: 60_000 } : undefined,
    ...(readFields ? { readFields } : {}),
  });
  cleanups.push(async () => {
    await pool.close();
    await executor.close();
  });
  return { pool, released };
}

async function scoreRows(
  pool: ModelPool,
  id: string,
  rows: number[][],
): Promise<{ version: string; scores: number[] }> {
  const model = pool.acquire(id);
  try {
    const scores = await model.score(new Float32Array(rows.flat()), rows.length);
    return { version: model.manifest.version, scores: [...scores] };
  } finally {
    model.release();
  }
}

function maxDifference(actual: number[], expected: number[]): number {
  return Math.max(...actual.map((value, index) => Math.abs(value - expected[index]!)));
}

/** Lets a release's drain and executor release (started without being awaited) finish. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('model pool', () => {
  it('scores the golden rows in worker threads as scikit-learn did, and as the main thread does', async () => {
    const features = goldenV1.map((row) => row.features);
    const threaded = poolWith(1, false).pool;
    const inThread = poolWith(0, false).pool;
    for (const pool of [threaded, inThread]) await pool.load(await readModelArtifact(MODEL_V1));
    const fromWorker = await scoreRows(threaded, FRAUD_GBM_1, features);
    const fromMain = await scoreRows(inThread, FRAUD_GBM_1, features);
    expect(
      maxDifference(
        fromWorker.scores,
        goldenV1.map((row) => row.score),
      ),
    ).toBeLessThan(1e-5);
    expect(fromWorker.scores).toEqual(fromMain.scores);
  });

  it('loads a version once under its id, and refuses a lease on a version it does not hold', async () => {
    const { pool } = poolWith(0, false);
    const artifact = await readModelArtifact(MODEL_V1);
    await pool.load(artifact);
    const [first] = pool.loaded();
    await pool.load(artifact);
    expect(pool.loaded()).toEqual([first]);
    expect(first).toMatchObject({
      id: FRAUD_GBM_1,
      model: 'fraud-gbm',
      version: '1',
      sha256: artifact.manifest.sha256,
    });
    expect(pool.isLoaded(FRAUD_GBM_1)).toBe(true);
    expect(pool.isLoaded(FRAUD_GBM_2)).toBe(false);
    expect(() => pool.acquire(FRAUD_GBM_2)).toThrow(/fraud-gbm@2 is not loaded/);
  });

  it('names the input fields a version reads before the version can be leased', async () => {
    const named: { fields: readonly string[]; servedYet: boolean }[] = [];
    const { pool } = poolWith(0, false, (fields) => {
      named.push({ fields, servedYet: pool.isLoaded(FRAUD_GBM_1) });
    });
    const artifact = await readModelArtifact(MODEL_V1);
    await pool.load(artifact);
    const expected = new Set(
      artifact.manifest.features.flatMap((feature) => [
        feature.field,
        ...feature.transforms.flatMap((t) => (t.op === 'differs_from_field' ? [t.field] : [])),
      ]),
    );
    expect(named).toHaveLength(1);
    expect(new Set(named[0]!.fields)).toEqual(expected);
    expect(named[0]!.servedYet).toBe(false);
  });

  it('swaps versions atomically: a lease keeps its version after the unload, new leases get the new one', async () => {
    const { pool, released } = poolWith(1, false);
    await pool.load(await readModelArtifact(MODEL_V1));
    const before = pool.acquire(FRAUD_GBM_1);
    await pool.load(await readModelArtifact(MODEL_V2));
    pool.unload(FRAUD_GBM_1);
    expect(pool.isLoaded(FRAUD_GBM_1)).toBe(false);
    expect(pool.loaded().map(({ id }) => id)).toEqual([FRAUD_GBM_2]);
    expect(() => pool.acquire(FRAUD_GBM_1)).toThrow(/not loaded/);
    const after = pool.acquire(FRAUD_GBM_2);
    const rows = new Float32Array(goldenV1.slice(0, 50).flatMap((row) => row.features));
    const [oldScores, newScores] = await Promise.all([
      before.score(rows.slice(), 50),
      after.score(rows.slice(), 50),
    ]);
    await settle();
    expect(released, 'a leased version is not let go').toEqual([]);
    before.release();
    after.release();
    await settle();
    expect(released, 'the unloaded version is let go with its last lease').toEqual([
      expect.stringMatching(/^fraud-gbm@1#/),
    ]);
    expect(before.manifest.version).toBe('1');
    expect(after.manifest.version).toBe('2');
    expect(
      maxDifference(
        [...oldScores],
        goldenV1.slice(0, 50).map((row) => row.score),
      ),
    ).toBeLessThan(1e-5);
    expect([...newScores]).not.toEqual([...oldScores]);
    expect(pool.pendingRows).toBe(0);
  });

  it('serves a cache hit with the score of a miss, and never across versions', async () => {
    const { pool } = poolWith(1, true);
    const lookups: PredictionCacheLookup[] = [];
    const unsubscribe = subscribe<PredictionCacheLookup>(predictionCacheLookup, (lookup) =>
      lookups.push(lookup),
    );
    const features = goldenV2.slice(0, 100).map((row) => row.features);
    try {
      await pool.load(await readModelArtifact(MODEL_V1));
      await pool.load(await readModelArtifact(MODEL_V2));
      const miss = await scoreRows(pool, FRAUD_GBM_1, features);
      const hit = await scoreRows(pool, FRAUD_GBM_1, features);
      const otherVersion = await scoreRows(pool, FRAUD_GBM_2, features);
      expect(hit.scores).toEqual(miss.scores);
      expect(lookups.map(({ version, hits, misses }) => [version, hits, misses])).toEqual([
        ['1', 0, 100],
        ['1', 100, 0],
        ['2', 0, 100],
      ]);
      expect(otherVersion.version).toBe('2');
      expect(
        maxDifference(
          otherVersion.scores,
          goldenV2.slice(0, 100).map((row) => row.score),
        ),
      ).toBeLessThan(1e-5);
      expect(pool.cachedPredictions).toBe(200);
    } finally {
      unsubscribe();
    }
  });

  it('never serves a cache hit across models that share a version number', async () => {
    const repository = await temporaryRepository();
    // Another model's file, published as version 1 of a model of its own: the same id but for the name.
    const retrained = await publishVersion(repository, MODEL_V2, '1', undefined, 'fraud-gbm-retrained');
    const { pool } = poolWith(1, true);
    const lookups: PredictionCacheLookup[] = [];
    const unsubscribe = subscribe<PredictionCacheLookup>(predictionCacheLookup, (lookup) =>
      lookups.push(lookup),
    );
    const rows = goldenV2.slice(0, 100);
    try {
      await pool.load(await readModelArtifact(MODEL_V1));
      await pool.load(await readModelArtifact(retrained));
      const champion = await scoreRows(
        pool,
        FRAUD_GBM_1,
        rows.map((row) => row.features),
      );
      const challenger = await scoreRows(
        pool,
        versionId('fraud-gbm-retrained', '1'),
        rows.map((row) => row.features),
      );
      expect(lookups.map(({ model, version, hits, misses }) => [model, version, hits, misses])).toEqual([
        ['fraud-gbm', '1', 0, 100],
        ['fraud-gbm-retrained', '1', 0, 100],
      ]);
      expect(
        maxDifference(
          challenger.scores,
          rows.map((row) => row.score),
        ),
      ).toBeLessThan(1e-5);
      expect(challenger.scores).not.toEqual(champion.scores);
    } finally {
      unsubscribe();
    }
  });

  it('scores a partly cached request correctly, row by row', async () => {
    const { pool } = poolWith(1, true);
    await pool.load(await readModelArtifact(MODEL_V1));
    const rows = goldenV1.slice(0, 40);
    await scoreRows(
      pool,
      FRAUD_GBM_1,
      rows.filter((_, index) => index % 3 === 0).map((row) => row.features),
    );
    const lookups: PredictionCacheLookup[] = [];
    const unsubscribe = subscribe<PredictionCacheLookup>(predictionCacheLookup, (lookup) =>
      lookups.push(lookup),
    );
    try {
      const mixed = await scoreRows(
        pool,
        FRAUD_GBM_1,
        rows.map((row) => row.features),
      );
      expect(lookups.map(({ hits, misses }) => [hits, misses])).toEqual([[14, 26]]);
      expect(
        maxDifference(
          mixed.scores,
          rows.map((row) => row.score),
        ),
      ).toBeLessThan(1e-5);
    } finally {
      unsubscribe();
    }
  });
});
