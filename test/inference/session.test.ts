import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packagePath } from '../../src/config/index.js';
import { ConfigurationError } from '../../src/errors/index.js';
import { createScoringSession } from '../../src/inference/index.js';
import { readModelArtifact } from '../../src/models/index.js';
import { readGolden } from '../support/golden.js';

const modelDirectory = packagePath('models/fraud-gbm/1');

/** A copy of the sample model whose manifest (and optionally model bytes) a test may spoil. */
async function copyModel(editManifest: (manifest: Record<string, unknown>) => void, modelBytes?: Uint8Array) {
  const directory = await mkdtemp(join(tmpdir(), 'streamscore-model-'));
  const manifest = JSON.parse(await readFile(join(modelDirectory, 'manifest.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  editManifest(manifest);
  await writeFile(join(directory, 'manifest.json'), JSON.stringify(manifest));
  await writeFile(
    join(directory, 'model.onnx'),
    modelBytes ?? (await readFile(join(modelDirectory, 'model.onnx'))),
  );
  return directory;
}

describe('scoring session', () => {
  it('reproduces the scores scikit-learn gave for the golden rows within 1e-5', async () => {
    const session = await createScoringSession(await readModelArtifact(modelDirectory), {
      intraOpThreads: 1,
    });
    const golden = readGolden();
    const features = new Float32Array(golden.flatMap((row) => row.features));
    const scores = await session.score(features, golden.length);
    expect(scores).toHaveLength(golden.length);
    const worst = Math.max(...golden.map((row, index) => Math.abs(scores[index]! - row.score)));
    expect(worst).toBeLessThan(1e-5);
    await session.release();
  });

  it('scores a batch the same as the rows one by one', async () => {
    const session = await createScoringSession(await readModelArtifact(modelDirectory), {
      intraOpThreads: 1,
    });
    const golden = readGolden().slice(0, 20);
    const batch = await session.score(new Float32Array(golden.flatMap((row) => row.features)), golden.length);
    for (const [index, row] of golden.entries()) {
      const [single] = await session.score(new Float32Array(row.features), 1);
      expect(single).toBe(batch[index]);
    }
    await session.release();
  });

  it('refuses a model file whose sha256 differs from its manifest', async () => {
    const bytes = await readFile(join(modelDirectory, 'model.onnx'));
    const tampered = Buffer.from(bytes);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1]! + 1) % 256;
    const directory = await copyModel(() => undefined, tampered);
    await expect(readModelArtifact(directory)).rejects.toMatchObject({ code: 'MODEL_CHECKSUM_MISMATCH' });
  });

  it('refuses a manifest whose signature the graph does not have', async () => {
    const wrongOutput = await copyModel((manifest) => {
      manifest.output = { name: 'probability_tensor', column: 1 };
    });
    await expect(
      createScoringSession(await readModelArtifact(wrongOutput), { intraOpThreads: 1 }),
    ).rejects.toMatchObject({
      code: 'MODEL_SIGNATURE_MISMATCH',
    });
    const wrongInput = await copyModel((manifest) => {
      manifest.inputs = [{ name: 'float_input', type: 'float32', shape: [-1, 8] }];
    });
    await expect(
      createScoringSession(await readModelArtifact(wrongInput), { intraOpThreads: 1 }),
    ).rejects.toThrow(/float_input/);
  });

  it('refuses a manifest that maps a different number of features than its input width', async () => {
    const directory = await copyModel((manifest) => {
      (manifest.features as unknown[]).pop();
    });
    await expect(readModelArtifact(directory)).rejects.toBeInstanceOf(ConfigurationError);
    await expect(readModelArtifact(directory)).rejects.toMatchObject({ code: 'MODEL_MANIFEST_INVALID' });
  });
});
