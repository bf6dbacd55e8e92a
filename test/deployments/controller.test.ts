/**
 * The deployment controller against a model repository in a temporary folder, with the real pool,
 * executors and onnxruntime: what it loads, what it refuses, what serves, and what a rollback returns to.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAvroSchema } from '../../src/codec/index.js';
import { packagePath } from '../../src/config/index.js';
import { type DeploymentController, startDeploymentController } from '../../src/deployments/controller.js';
import { configuredState, promote, rollback, setChallengers } from '../../src/deployments/index.js';
import { createExecutor, createModelPool, type ModelPool } from '../../src/inference/index.js';
import { type ModelSwapped, modelSwapped, subscribe } from '../../src/telemetry/index.js';
import { type GoldenRow, readGolden } from '../support/golden.js';
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
const goldenMlp = readGolden('models/fraud-mlp/1');
const MLP = packagePath('models/fraud-mlp/1');
const REFUSED = 'model version refused; the serving version keeps serving';
const decision = { by: 'test', reason: 'the controller test decides' };
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

interface Serving {
  pool: ModelPool;
  controller: DeploymentController;
  lines: Record<string, unknown>[];
}

/** A controller serving fraud-gbm from `repository`, its champion at `version` (latest unless told). */
async function serve(
  repository: string,
  { version = 'latest', pollIntervalMs = 0 }: { version?: string; pollIntervalMs?: number } = {},
): Promise<Serving> {
  const executor = createExecutor({ workers: 1, intraOpThreads: 1 });
  const pool = createModelPool(inputType, executor, {
    batching: { maxBatchSize: 64, maxDelayMicros: 200 },
    cache: { maxEntries: 10_000, ttlMs: 60_000 },
  });
  const { logger, lines } = capturingLogger();
  cleanups.push(async () => {
    await pool.close();
    await executor.close();
  });
  const controller = await startDeploymentController(
    pool,
    configuredState('fraud-gbm', { model: 'fraud-gbm', version }, []),
    { repository, pollIntervalMs },
    logger,
  );
  cleanups.unshift(async () => controller.stop());
  return { pool, controller, lines };
}

/** Scores the golden rows' features with the champion of the current plan. */
async function scoreWithChampion(
  { pool, controller }: Serving,
  rows: readonly GoldenRow[],
): Promise<{ id: string; scores: number[] }> {
  const model = pool.acquire(controller.plan().champion);
  try {
    const scores = await model.score(new Float32Array(rows.flatMap((row) => row.features)), rows.length);
    return { id: model.id, scores: [...scores] };
  } finally {
    model.release();
  }
}

function maxDifference(actual: readonly number[], rows: readonly GoldenRow[]): number {
  return Math.max(...actual.map((value, index) => Math.abs(value - rows[index]!.score)));
}

const refusals = (lines: readonly Record<string, unknown>[]) => lines.filter((line) => line.msg === REFUSED);

/** Re-reads the repository and serves the state in force again, as a poll would. */
const reconcile = (controller: DeploymentController) => controller.apply(controller.state);

async function corruptModelFile(directory: string): Promise<void> {
  const bytes = await readFile(join(directory, 'model.onnx'));
  bytes[100] = bytes[100]! ^ 0xff;
  await writeFile(join(directory, 'model.onnx'), bytes);
}

describe('deployment controller', () => {
  it('refuses a corrupt or mismatched version while the champion keeps serving, then takes a good one', async () => {
    const repository = await temporaryRepository();
    await publishVersion(repository, MODEL_V1, '1');
    const serving = await serve(repository);
    const { controller, lines } = serving;
    const probe = goldenV1.slice(0, 10);
    expect(controller.plan().champion).toBe('fraud-gbm@1');

    await corruptModelFile(await publishVersion(repository, MODEL_V2, '2'));
    await reconcile(controller);
    await publishVersion(repository, ZIPMAP_MODEL, '3');
    await reconcile(controller);

    expect(refusals(lines).map(({ model, version, role, code }) => ({ model, version, role, code }))).toEqual(
      [
        { model: 'fraud-gbm', version: '2', role: 'champion', code: 'MODEL_CHECKSUM_MISMATCH' },
        { model: 'fraud-gbm', version: '3', role: 'champion', code: 'MODEL_SIGNATURE_MISMATCH' },
      ],
    );
    expect(String(refusals(lines)[1]!.reason)).toContain("'zipmap': False");
    expect(refusals(lines).every((line) => line.level === 50)).toBe(true);
    expect(controller.status().unavailable.map(({ id }) => id)).toEqual(['fraud-gbm@2', 'fraud-gbm@3']);
    const stillServing = await scoreWithChampion(serving, probe);
    expect(stillServing.id).toBe('fraud-gbm@1');
    expect(maxDifference(stillServing.scores, probe)).toBeLessThan(1e-5);

    // A refused version is not retried on every poll; a new good one is served.
    await reconcile(controller);
    expect(refusals(lines)).toHaveLength(2);
    await publishVersion(repository, MODEL_V2, '4');
    await reconcile(controller);
    expect(controller.plan().champion).toBe('fraud-gbm@4');
    const newVersion = await scoreWithChampion(serving, goldenV2.slice(0, 10));
    expect(maxDifference(newVersion.scores, goldenV2.slice(0, 10))).toBeLessThan(1e-5);
    expect(refusals(lines)).toHaveLength(2);
  });

  it('tries a refused version again once its manifest changes', async () => {
    const repository = await temporaryRepository();
    await publishVersion(repository, MODEL_V1, '1');
    const { controller, lines } = await serve(repository);
    await corruptModelFile(await publishVersion(repository, MODEL_V2, '2'));
    await reconcile(controller);
    expect(controller.plan().champion).toBe('fraud-gbm@1');

    // The operator publishes version 2 again, intact, manifest last.
    await publishVersion(repository, MODEL_V2, '2');
    await reconcile(controller);
    expect(controller.plan().champion).toBe('fraud-gbm@2');
    expect(controller.status().unavailable).toEqual([]);
    expect(refusals(lines)).toHaveLength(1);
  });

  it('polls the repository for a latest champion every pollIntervalMs', async () => {
    const repository = await temporaryRepository();
    await publishVersion(repository, MODEL_V1, '1');
    const { controller } = await serve(repository, { pollIntervalMs: 20 });
    await publishVersion(repository, MODEL_V2, '2');
    await expect.poll(() => controller.plan().champion, { timeout: 5_000 }).toBe('fraud-gbm@2');
    expect(controller.status().standby).toBe('fraud-gbm@1');
  });

  it('does not start when the champion cannot be loaded', async () => {
    const repository = await temporaryRepository();
    await corruptModelFile(await publishVersion(repository, MODEL_V1, '1'));
    await expect(serve(repository)).rejects.toMatchObject({ code: 'MODEL_MANIFEST_INVALID' });
  });

  it('started with versions 1 and 2 in the repository, serves 2 with 1 loaded as the standby', async () => {
    const repository = await temporaryRepository();
    await publishVersion(repository, MODEL_V1, '1');
    await publishVersion(repository, MODEL_V2, '2');
    const { pool, controller } = await serve(repository);
    expect(controller.status()).toMatchObject({ champion: 'fraud-gbm@2', standby: 'fraud-gbm@1' });
    expect(
      pool
        .loaded()
        .map(({ id }) => id)
        .sort(),
    ).toEqual(['fraud-gbm@1', 'fraud-gbm@2']);
  });

  it('rolls back to the standby; the refused version does not come back, a newer one does', async () => {
    const repository = await temporaryRepository();
    await publishVersion(repository, MODEL_V1, '1');
    await publishVersion(repository, MODEL_V2, '2');
    const serving = await serve(repository);
    const { pool, controller } = serving;
    const swaps: ModelSwapped[] = [];
    const unsubscribe = subscribe<ModelSwapped>(modelSwapped, (swap) => swaps.push(swap));
    try {
      expect(controller.plan().champion).toBe('fraud-gbm@2');

      await controller.apply(
        rollback(controller.state, await controller.resolve(), { by: 'test', reason: 'bad scores' }),
      );
      expect(controller.plan().champion).toBe('fraud-gbm@1');
      expect(controller.state).toMatchObject({
        action: 'rollback',
        champion: { model: 'fraud-gbm', version: 'latest' },
        refused: ['fraud-gbm@2'],
      });
      expect(swaps).toEqual([
        { model: 'fraud-gbm', from: 'fraud-gbm@2', to: 'fraud-gbm@1', reason: 'decision' },
      ]);
      const probe = goldenV1.slice(0, 20);
      const scored = await scoreWithChampion(serving, probe);
      expect(scored.id).toBe('fraud-gbm@1');
      expect(maxDifference(scored.scores, probe)).toBeLessThan(1e-5);

      await reconcile(controller);
      expect(controller.plan().champion, 'a reconciliation does not bring the refused version back').toBe(
        'fraud-gbm@1',
      );
      expect(pool.isLoaded('fraud-gbm@2')).toBe(false);

      const current = controller.state;
      const resolved = await controller.resolve();
      expect(resolved.standby).toBeUndefined();
      expect(() => rollback(current, resolved, decision)).toThrow(
        expect.objectContaining({ code: 'DECISION_REFUSED' }),
      );

      await publishVersion(repository, MODEL_V2, '3');
      await reconcile(controller);
      expect(controller.status()).toMatchObject({ champion: 'fraud-gbm@3', standby: 'fraud-gbm@1' });
    } finally {
      unsubscribe();
    }
  });

  it('rolls back to a pinned champion standby and pins it', async () => {
    const repository = await temporaryRepository();
    await publishVersion(repository, MODEL_V1, '1');
    await publishVersion(repository, MODEL_V2, '2');
    await publishVersion(repository, MODEL_V2, '3');
    const { controller } = await serve(repository, { version: '2' });
    expect(controller.status()).toMatchObject({ champion: 'fraud-gbm@2', standby: 'fraud-gbm@1' });
    await controller.apply(rollback(controller.state, await controller.resolve(), decision));
    expect(controller.state.champion).toEqual({ model: 'fraud-gbm', version: '1' });
    expect(controller.plan().champion).toBe('fraud-gbm@1');
  });

  it('promotes a challenger: it becomes the champion, the champion the standby a rollback returns to', async () => {
    const repository = await temporaryRepository();
    await publishVersion(repository, MODEL_V1, '1');
    await publishVersion(repository, MODEL_V2, '2');
    await publishVersion(repository, MLP, '1', undefined, 'fraud-mlp');
    const serving = await serve(repository);
    const { pool, controller } = serving;

    await controller.apply(
      setChallengers(
        controller.state,
        [{ variant: 'mlp', mode: 'shadow', model: 'fraud-mlp', version: '1', share: 0.5 }],
        decision,
      ),
    );
    expect(controller.plan()).toMatchObject({
      champion: 'fraud-gbm@2',
      challengers: [{ variant: 'mlp', mode: 'shadow', id: 'fraud-mlp@1', share: 0.5 }],
    });
    expect(pool.isLoaded('fraud-mlp@1')).toBe(true);

    await controller.apply(promote(controller.state, await controller.resolve(), 'mlp', decision));
    expect(controller.state).toMatchObject({
      action: 'promote',
      champion: { model: 'fraud-mlp', version: '1' },
      previous: { model: 'fraud-gbm', version: '2' },
      challengers: [],
    });
    expect(controller.status()).toMatchObject({
      champion: 'fraud-mlp@1',
      standby: 'fraud-gbm@2',
      challengers: [],
    });
    const probe = goldenMlp.slice(0, 10);
    const promoted = await scoreWithChampion(serving, probe);
    expect(promoted.id).toBe('fraud-mlp@1');
    expect(maxDifference(promoted.scores, probe)).toBeLessThan(1e-5);

    await controller.apply(rollback(controller.state, await controller.resolve(), decision));
    expect(controller.status()).toMatchObject({ champion: 'fraud-gbm@2' });
    expect(controller.state.refused).toEqual(['fraud-mlp@1']);
    expect(pool.isLoaded('fraud-mlp@1')).toBe(false);
  });

  it('hands out one plan object per state, and a leased champion keeps scoring after a switch', async () => {
    const repository = await temporaryRepository();
    await publishVersion(repository, MODEL_V1, '1');
    await publishVersion(repository, MODEL_V2, '2');
    const { pool, controller } = await serve(repository);
    const plan = controller.plan();
    expect(controller.plan()).toBe(plan);
    expect(plan).toMatchObject({ revision: 0, champion: 'fraud-gbm@2' });

    const lease = pool.acquire(plan.champion);
    try {
      await controller.apply(rollback(controller.state, await controller.resolve(), decision));
      const switched = controller.plan();
      expect(switched).not.toBe(plan);
      expect(switched).toMatchObject({ revision: 1, champion: 'fraud-gbm@1' });
      expect(controller.plan()).toBe(switched);
      expect(pool.isLoaded('fraud-gbm@2')).toBe(false);

      const rows = goldenV2.slice(0, 30);
      const scores = await lease.score(new Float32Array(rows.flatMap((row) => row.features)), rows.length);
      expect(lease.id).toBe('fraud-gbm@2');
      expect(maxDifference([...scores], rows)).toBeLessThan(1e-5);
    } finally {
      lease.release();
    }
    expect(pool.pendingRows).toBe(0);
  });

  it('keeps the same plan object while polls find nothing new', async () => {
    const repository = await temporaryRepository();
    await publishVersion(repository, MODEL_V1, '1');
    const { controller } = await serve(repository, { pollIntervalMs: 10 });
    const plan = controller.plan();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(controller.plan()).toBe(plan);
  });

  it('after versions that failed verification, a rollback from the next good one returns to a version that loads', async () => {
    const repository = await temporaryRepository();
    await publishVersion(repository, MODEL_V1, '1');
    const { controller } = await serve(repository);
    await corruptModelFile(await publishVersion(repository, MODEL_V2, '2'));
    await reconcile(controller);
    await publishVersion(repository, MODEL_V2, '3');
    await reconcile(controller);
    expect(controller.plan().champion).toBe('fraud-gbm@3');

    await controller.apply(rollback(controller.state, await controller.resolve(), decision));
    expect(controller.state.refused).toEqual(['fraud-gbm@3']);
    expect(controller.plan().champion, 'the refused version 3 is not served after the rollback').toBe(
      'fraud-gbm@1',
    );
  });
});
