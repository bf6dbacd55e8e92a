import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAvroSchema } from '../../src/codec/index.js';
import { loadConfig, packagePath } from '../../src/config/index.js';
import {
  createExecutor,
  createModelEngine,
  type Executor,
  type ModelEngine,
} from '../../src/inference/index.js';
import { readModelArtifact } from '../../src/models/index.js';
import { watchModelRepository } from '../../src/service/model-updates.js';
import { type PredictionCacheLookup, predictionCacheLookup, subscribe } from '../../src/telemetry/index.js';
import { readGolden } from '../support/golden.js';
import { capturingLogger } from '../support/logs.js';
import {
  MODEL_V1,
  MODEL_V2,
  publishVersion,
  temporaryRepository,
  ZIPMAP_MODEL,
} from '../support/repository.js';

const inputType = loadAvroSchema(packagePath('schemas/card-transaction.avsc'));
const goldenV1 = readGolden('models/fraud-gbm/1');
const goldenV2 = readGolden('test/fixtures/models/fraud-gbm-v2/2');
const batching = { maxBatchSize: 64, maxDelayMicros: 200 };
const cleanups: (() => Promise<void>)[] = [];

function engineWith(workers: number, cache = true): { engine: ModelEngine; executor: Executor } {
  const executor = createExecutor({ workers, intraOpThreads: 1 });
  const engine = createModelEngine('fraud-gbm', inputType, executor, {
    batching,
    cache: cache ? { maxEntries: 10_000, ttlMs: 60_000 } : undefined,
  });
  cleanups.push(async () => {
    await engine.close();
    await executor.close();
  });
  return { engine, executor };
}

async function scoreRows(
  engine: ModelEngine,
  rows: number[][],
): Promise<{ version: string; scores: number[] }> {
  const model = engine.acquire();
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

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('model engine', () => {
  it('scores the golden rows in worker threads as scikit-learn did, and as the main thread does', async () => {
    const features = goldenV1.map((row) => row.features);
    const threaded = engineWith(1, false).engine;
    const inThread = engineWith(0, false).engine;
    for (const engine of [threaded, inThread]) await engine.deploy(await readModelArtifact(MODEL_V1));
    const fromWorker = await scoreRows(threaded, features);
    const fromMain = await scoreRows(inThread, features);
    expect(
      maxDifference(
        fromWorker.scores,
        goldenV1.map((row) => row.score),
      ),
    ).toBeLessThan(1e-5);
    expect(fromWorker.scores).toEqual(fromMain.scores);
  });

  it('swaps versions atomically: a lease keeps its version, new leases get the new one', async () => {
    const { engine } = engineWith(1, false);
    await engine.deploy(await readModelArtifact(MODEL_V1));
    const before = engine.acquire();
    await engine.deploy(await readModelArtifact(MODEL_V2));
    const after = engine.acquire();
    const rows = new Float32Array(goldenV1.slice(0, 50).flatMap((row) => row.features));
    const [oldScores, newScores] = await Promise.all([
      before.score(rows.slice(), 50),
      after.score(rows.slice(), 50),
    ]);
    before.release();
    after.release();
    expect(before.manifest.version).toBe('1');
    expect(after.manifest.version).toBe('2');
    expect(
      maxDifference(
        [...oldScores],
        goldenV1.slice(0, 50).map((row) => row.score),
      ),
    ).toBeLessThan(1e-5);
    expect([...newScores]).not.toEqual([...oldScores]);
    expect(engine.status()).toMatchObject({ serving: { version: '2' }, standby: { version: '1' } });
  });

  it('serves a cache hit with the score of a miss, and never across versions', async () => {
    const { engine } = engineWith(1, true);
    const lookups: PredictionCacheLookup[] = [];
    const unsubscribe = subscribe<PredictionCacheLookup>(predictionCacheLookup, (lookup) =>
      lookups.push(lookup),
    );
    const features = goldenV2.slice(0, 100).map((row) => row.features);
    try {
      await engine.deploy(await readModelArtifact(MODEL_V1));
      const miss = await scoreRows(engine, features);
      const hit = await scoreRows(engine, features);
      await engine.deploy(await readModelArtifact(MODEL_V2));
      const afterSwap = await scoreRows(engine, features);
      expect(hit.scores).toEqual(miss.scores);
      expect(lookups.map(({ hits, misses }) => [hits, misses])).toEqual([
        [0, 100],
        [100, 0],
        [0, 100],
      ]);
      expect(afterSwap.version).toBe('2');
      expect(
        maxDifference(
          afterSwap.scores,
          goldenV2.slice(0, 100).map((row) => row.score),
        ),
      ).toBeLessThan(1e-5);
    } finally {
      unsubscribe();
    }
  });

  it('scores a partly cached request correctly, row by row', async () => {
    const { engine } = engineWith(1, true);
    await engine.deploy(await readModelArtifact(MODEL_V1));
    const rows = goldenV1.slice(0, 40);
    await scoreRows(
      engine,
      rows.filter((_, index) => index % 3 === 0).map((row) => row.features),
    );
    const mixed = await scoreRows(
      engine,
      rows.map((row) => row.features),
    );
    expect(
      maxDifference(
        mixed.scores,
        rows.map((row) => row.score),
      ),
    ).toBeLessThan(1e-5);
  });

  it('refuses a corrupt or mismatched version while the serving one keeps serving, then takes a good one', async () => {
    const repository = await temporaryRepository();
    await publishVersion(repository, MODEL_V1, '1');
    const { engine } = engineWith(1, false);
    await engine.deploy(await readModelArtifact(join(repository, 'fraud-gbm', '1')));
    const { logger, lines } = capturingLogger();
    const config = loadConfig({ env: {}, overrides: { model: { repository, pollIntervalMs: 0 } } });
    const updates = watchModelRepository(engine, config.model, logger);
    const probe = goldenV1.slice(0, 10);

    const corrupt = await publishVersion(repository, MODEL_V2, '2');
    const bytes = await readFile(join(corrupt, 'model.onnx'));
    bytes[100] = bytes[100]! ^ 0xff;
    await writeFile(join(corrupt, 'model.onnx'), bytes);
    await updates.check();
    await publishVersion(repository, ZIPMAP_MODEL, '3');
    await updates.check();

    const refusals = lines.filter(
      (line) => line.msg === 'model version refused; the serving version keeps serving',
    );
    expect(refusals.map((line) => [line.version, line.code])).toEqual([
      ['2', 'MODEL_CHECKSUM_MISMATCH'],
      ['3', 'MODEL_SIGNATURE_MISMATCH'],
    ]);
    expect(String(refusals[1]!.reason)).toContain("'zipmap': False");
    const stillServing = await scoreRows(
      engine,
      probe.map((row) => row.features),
    );
    expect(stillServing.version).toBe('1');
    expect(
      maxDifference(
        stillServing.scores,
        probe.map((row) => row.score),
      ),
    ).toBeLessThan(1e-5);

    // A refused version is not retried on every poll; a new good one is deployed.
    await updates.check();
    expect(lines.filter((line) => line.msg?.toString().startsWith('model version refused'))).toHaveLength(2);
    await publishVersion(repository, MODEL_V2, '4');
    await updates.check();
    expect(engine.status().serving?.version).toBe('4');
    updates.stop();
  });

  it('rolls back to the previous version, and the watcher does not bring the refused one back', async () => {
    const repository = await temporaryRepository();
    await publishVersion(repository, MODEL_V1, '1');
    await publishVersion(repository, MODEL_V2, '2');
    const { engine } = engineWith(1, true);
    await engine.deploy(await readModelArtifact(join(repository, 'fraud-gbm', '1')));
    const config = loadConfig({ env: {}, overrides: { model: { repository, pollIntervalMs: 0 } } });
    const updates = watchModelRepository(engine, config.model, capturingLogger().logger);
    await updates.check();
    expect(engine.status().serving?.version).toBe('2');

    expect(await engine.rollback()).toEqual({ from: '2', to: '1' });
    await updates.check();
    const status = engine.status();
    expect(status).toMatchObject({ serving: { version: '1' }, refused: ['2'] });
    const probe = goldenV1.slice(0, 20);
    const scored = await scoreRows(
      engine,
      probe.map((row) => row.features),
    );
    expect(
      maxDifference(
        scored.scores,
        probe.map((row) => row.score),
      ),
    ).toBeLessThan(1e-5);
    await expect(engine.rollback()).rejects.toThrow(/no previous version/);
    updates.stop();
  });
});
