/**
 * fraud-slow@1 (models/slow_fixture.py): fraud-gbm@1's scores at a high cost per inference call, whatever
 * the rows. Timings are printed; only the ratio to fraud-gbm, measured in the same run, is asserted.
 */
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { packagePath } from '../../src/config/index.js';
import { readModelArtifact } from '../../src/models/index.js';
import { readGolden } from '../support/golden.js';

const SLOW = 'test/fixtures/models/fraud-slow/1';
const GBM = 'models/fraud-gbm/1';

/** A session as the service opens one (src/inference/session.ts): one thread, every graph optimisation. */
async function openSession(directory: string): Promise<ort.InferenceSession> {
  const artifact = await readModelArtifact(packagePath(directory));
  return ort.InferenceSession.create(artifact.bytes, {
    executionMode: 'sequential',
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
}

/** `rows` golden feature rows (repeated as needed) as a [rows, 8] tensor. */
function goldenBatch(rows: number): ort.Tensor {
  const golden = readGolden(SLOW);
  const width = golden[0]!.features.length;
  const data = new Float32Array(rows * width);
  for (let row = 0; row < rows; row++) data.set(golden[row % golden.length]!.features, row * width);
  return new ort.Tensor('float32', data, [rows, width]);
}

async function probabilities(session: ort.InferenceSession, batch: ort.Tensor): Promise<Float32Array> {
  const outputs = await session.run({ features: batch }, ['probabilities']);
  return outputs.probabilities!.data as Float32Array;
}

/** Median milliseconds of `calls` inference calls, after one to warm up. */
async function medianCallMs(
  session: ort.InferenceSession,
  batch: ort.Tensor,
  calls: number,
): Promise<number> {
  await probabilities(session, batch);
  const times: number[] = [];
  for (let call = 0; call < calls; call++) {
    const started = performance.now();
    await probabilities(session, batch);
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(calls / 2)]!;
}

describe('fraud-slow@1', () => {
  it("scores exactly as fraud-gbm@1 does, its manifest's features and threshold included", async () => {
    const [slow, gbm] = await Promise.all([openSession(SLOW), openSession(GBM)]);
    const batch = goldenBatch(50);
    expect(await probabilities(slow, batch)).toEqual(await probabilities(gbm, batch));
    const slowManifest = (await readModelArtifact(packagePath(SLOW))).manifest;
    const gbmManifest = (await readModelArtifact(packagePath(GBM))).manifest;
    expect(slowManifest.features).toEqual(gbmManifest.features);
    expect(slowManifest.inputs).toEqual(gbmManifest.inputs);
    expect(slowManifest.threshold).toBe(gbmManifest.threshold);
    await Promise.all([slow.release(), gbm.release()]);
  });

  it('costs at least 5 times what fraud-gbm costs per call, for 1 row and for 256', async () => {
    const [slow, gbm] = await Promise.all([openSession(SLOW), openSession(GBM)]);
    for (const rows of [1, 256]) {
      const batch = goldenBatch(rows);
      const slowMs = await medianCallMs(slow, batch, 7);
      const gbmMs = await medianCallMs(gbm, batch, 51);
      console.log(
        `${rows} row${rows > 1 ? 's' : ''}: fraud-slow ${slowMs.toFixed(1)} ms per call, fraud-gbm ${gbmMs.toFixed(3)} ms (x${(slowMs / gbmMs).toFixed(0)})`,
      );
      expect(slowMs).toBeGreaterThan(5 * gbmMs);
    }
    await Promise.all([slow.release(), gbm.release()]);
  });
});
