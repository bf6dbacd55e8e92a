/**
 * Finding the records a model fails on, with the real engine, executors and onnxruntime, on the fraud-poison
 * fixture: onnxruntime fails on any call holding a record whose amount_minor is 1e8 or more.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadAvroSchema } from '../../src/codec/index.js';
import { packagePath } from '../../src/config/index.js';
import { StreamscoreError } from '../../src/errors/index.js';
import type { DecodedRecord, FeatureRows } from '../../src/features/index.js';
import {
  createExecutor,
  createModelPool,
  createScoringSession,
  type Executor,
  type ModelPool,
  type ServingModel,
  scoreIsolatingFailures,
  versionId,
} from '../../src/inference/index.js';
import { type ModelArtifact, readModelArtifact } from '../../src/models/index.js';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { type InferenceBatch, inferenceBatch, subscribe } from '../../src/telemetry/index.js';

const inputType = loadAvroSchema(packagePath('schemas/card-transaction.avsc'));
const artifact = await readModelArtifact(packagePath('test/fixtures/models/fraud-poison/1'));
const FRAUD_POISON = versionId(artifact.manifest.name, artifact.manifest.version);
const POISON_AMOUNT_MINOR = 5_000_000_000;
const cleanups: (() => Promise<void>)[] = [];

const stream = sampleTransactions({ seed: 31 });
const healthy = (count: number) =>
  Array.from({ length: count }, () => stream.next().value as CardTransaction);
const poison = (event: CardTransaction): CardTransaction => ({ ...event, amount_minor: POISON_AMOUNT_MINOR });

/** The real pool on `executor`; inference calls wait up to 5 s to fill, so concurrent requests merge. */
async function deployed(executor: Executor): Promise<ModelPool> {
  const pool = createModelPool(inputType, executor, {
    batching: { maxBatchSize: 256, maxDelayMicros: 5_000_000 },
    cache: { maxEntries: 10_000, ttlMs: 60_000 },
  });
  cleanups.push(async () => {
    await pool.close();
    await executor.close();
  });
  await pool.load(artifact);
  return pool;
}

function featureRows(model: ServingModel, events: readonly CardTransaction[]): FeatureRows {
  const rows = model.features.allocateRows(events.length);
  for (const [row, event] of events.entries())
    model.features.extractInto(event as unknown as DecodedRecord, rows, row);
  return rows;
}

/** Each row scored in a session of its own, one row per call: what the row scores when nothing else runs. */
async function scoresAlone(model: ServingModel, events: readonly CardTransaction[]): Promise<number[]> {
  const session = await createScoringSession(artifact, { intraOpThreads: 1 });
  const scores: number[] = [];
  for (const event of events) scores.push((await session.score(featureRows(model, [event]), 1))[0]!);
  await session.release();
  return scores;
}

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe.each([
  ['a worker pool of 1', 1],
  ['the in-thread executor', 0],
])('isolating poison records on %s', (_, workers) => {
  it('fails only the poison row when another batch shares its inference call; the other batch scores as alone', async () => {
    const pool = await deployed(createExecutor({ workers, intraOpThreads: 1 }));
    const model = pool.acquire(FRAUD_POISON);
    const batchA = [...healthy(5), poison(healthy(1)[0]!), ...healthy(4)];
    const batchB = healthy(7);
    const calls: number[] = [];
    const unsubscribe = subscribe<InferenceBatch>(inferenceBatch, (batch) => calls.push(batch.rows));
    try {
      // A call under way makes the two batches queue behind it, and they leave together in one call.
      const running = model.score(featureRows(model, healthy(3)), 3);
      const [isolatedA, isolatedB] = await Promise.all([
        scoreIsolatingFailures(model, featureRows(model, batchA), batchA.length, {}),
        scoreIsolatingFailures(model, featureRows(model, batchB), batchB.length, {}),
        running,
      ]);
      expect(calls).toEqual([3, batchA.length + batchB.length]);
      expect(isolatedA.failedRows).toEqual([5]);
      expect(isolatedB.failedRows).toEqual([]);
      expect([...isolatedB.scores]).toEqual(await scoresAlone(model, batchB));
      const healthyOfA = batchA.filter((_, row) => row !== 5);
      const healthyScoresOfA = [...isolatedA.scores].filter((_, row) => row !== 5);
      expect(healthyScoresOfA).toEqual(await scoresAlone(model, healthyOfA));
      expect([...healthyScoresOfA, ...isolatedB.scores].every((score) => score > 0 && score < 1)).toBe(true);
    } finally {
      unsubscribe();
      model.release();
    }
  });

  it('fails a lone poison record instead of throwing, and never caches a score for it', async () => {
    const pool = await deployed(createExecutor({ workers, intraOpThreads: 1 }));
    const model = pool.acquire(FRAUD_POISON);
    try {
      const lone = featureRows(model, [poison(healthy(1)[0]!)]);
      expect((await scoreIsolatingFailures(model, lone, 1, {})).failedRows).toEqual([0]);
      // The cache has no score for it: scoring it again runs onnxruntime again, which fails again.
      await expect(model.score(lone, 1)).rejects.toMatchObject({ code: 'INFERENCE_RUN_FAILED' });
      expect(pool.cachedPredictions).toBe(0);
    } finally {
      model.release();
    }
  });

  it('fails every row of a batch of poison records while the model still scores its warm-up row', async () => {
    const pool = await deployed(createExecutor({ workers, intraOpThreads: 1 }));
    const model = pool.acquire(FRAUD_POISON);
    try {
      const events = healthy(4).map(poison);
      const isolated = await scoreIsolatingFailures(model, featureRows(model, events), events.length, {});
      expect(isolated.failedRows).toEqual([0, 1, 2, 3]);
    } finally {
      model.release();
    }
  });

  it("carries onnxruntime's own message in the inference failure, across the worker boundary", async () => {
    const pool = await deployed(createExecutor({ workers, intraOpThreads: 1 }));
    const model = pool.acquire(FRAUD_POISON);
    try {
      await expect(model.score(featureRows(model, [poison(healthy(1)[0]!)]), 1)).rejects.toMatchObject({
        code: 'INFERENCE_RUN_FAILED',
        message: expect.stringMatching(
          /fraud-poison@1 failed on a batch of 1: .*indices element out of data bounds/,
        ),
      });
    } finally {
      model.release();
    }
  });
});

/** Delegates to a real executor until break() is called; from then on every inference call fails. */
function breakableExecutor(real: Executor) {
  let broken = false;
  let calls = 0;
  const executor: Executor = {
    threads: real.threads,
    load: (key, loaded: ModelArtifact) => real.load(key, loaded),
    score(key, features, rows) {
      calls += 1;
      if (!broken) return real.score(key, features, rows);
      return Promise.reject(new StreamscoreError('INFERENCE_RUN_FAILED', 'onnxruntime fails on every input'));
    },
    release: (key) => real.release(key),
    close: () => real.close(),
  };
  return {
    executor,
    break: () => {
      broken = true;
      calls = 0;
    },
    calls: () => calls,
  };
}

describe('a model that fails on every input, its warm-up row included', () => {
  it('is an infrastructure failure, thrown for the batch to be retried, after one probe', async () => {
    const breakable = breakableExecutor(createExecutor({ workers: 1, intraOpThreads: 1 }));
    const pool = await deployed(breakable.executor);
    const model = pool.acquire(FRAUD_POISON);
    try {
      breakable.break();
      const events = healthy(20);
      const failure = await scoreIsolatingFailures(model, featureRows(model, events), events.length, {}).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(StreamscoreError);
      expect(failure).toMatchObject({
        code: 'INFERENCE_RUN_FAILED',
        disposition: 'infrastructure',
        message: expect.stringContaining('fails even on the row it warmed up with'),
      });
      // The batch through the batcher, the batch alone, the warm-up row: no row-by-row search.
      expect(breakable.calls()).toBe(3);
    } finally {
      model.release();
    }
  });
});
