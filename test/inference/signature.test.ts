/**
 * Refusals at load, on real exports: each names the problem, says how to fix the export and, when
 * onnxruntime raised the error, carries onnxruntime's own message (also from a worker thread).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packagePath } from '../../src/config/index.js';
import { ConfigurationError } from '../../src/errors/index.js';
import { createExecutor, createScoringSession } from '../../src/inference/index.js';
import { readModelArtifact } from '../../src/models/index.js';
import { readGolden } from '../support/golden.js';

const fixture = (name: string) => packagePath(`test/fixtures/models/${name}/1`);

/** A copy of a fixture whose manifest (and optionally model file) a test changes; the sha256 follows the file. */
async function variant(
  name: string,
  editManifest: (manifest: Record<string, unknown>) => void,
  modelBytes?: Uint8Array,
): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'streamscore-signature-'));
  const manifest = JSON.parse(await readFile(join(fixture(name), 'manifest.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  const bytes = modelBytes ?? (await readFile(join(fixture(name), 'model.onnx')));
  manifest.sha256 = createHash('sha256').update(bytes).digest('hex');
  editManifest(manifest);
  await writeFile(join(directory, 'model.onnx'), bytes);
  await writeFile(join(directory, 'manifest.json'), JSON.stringify(manifest));
  return directory;
}

/** The manifest mapping one feature fewer than the graph was trained on. */
function dropLastFeature(manifest: Record<string, unknown>): void {
  const features = manifest.features as unknown[];
  features.pop();
  (manifest.baseline as { features: unknown[] } | undefined)?.features.pop();
  manifest.inputs = [{ name: 'features', type: 'float32', shape: [-1, features.length] }];
}

const load = async (directory: string) =>
  createScoringSession(await readModelArtifact(directory), { intraOpThreads: 1 });

describe('a graph with a dynamic input width', () => {
  it('is served when it refuses rows of any other width, and scores as scikit-learn did', async () => {
    const session = await load(fixture('fraud-mlp-dynamic-width'));
    const golden = readGolden('test/fixtures/models/fraud-mlp-dynamic-width/1');
    const scores = await session.score(
      new Float32Array(golden.flatMap((row) => row.features)),
      golden.length,
    );
    expect(Math.max(...golden.map((row, index) => Math.abs(scores[index]! - row.score)))).toBeLessThan(1e-5);
    await session.release();
  });

  it("is refused, with onnxruntime's explanation, when the manifest maps the wrong number of features", async () => {
    const directory = await variant('fraud-mlp-dynamic-width', dropLastFeature);
    const refusal = load(directory);
    await expect(refusal).rejects.toBeInstanceOf(ConfigurationError);
    await expect(refusal).rejects.toMatchObject({
      code: 'MODEL_SIGNATURE_MISMATCH',
      message: expect.stringMatching(
        /does not run on a row of the 7 features the manifest maps: .*Scaler.*feature size \(7\)/,
      ),
    });
  });

  it("is refused with onnxruntime's explanation from a worker thread too", async () => {
    const executor = createExecutor({ workers: 1, intraOpThreads: 1 });
    try {
      const artifact = await readModelArtifact(await variant('fraud-mlp-dynamic-width', dropLastFeature));
      await expect(executor.load('wrong-width', artifact)).rejects.toMatchObject({
        name: 'ConfigurationError',
        code: 'MODEL_SIGNATURE_MISMATCH',
        message: expect.stringContaining('Either both scale and offset can be of feature size (7) or 1'),
      });
    } finally {
      await executor.close();
    }
  });

  it('is refused with the fixed-width export when a tree ensemble also runs on wider rows', async () => {
    await expect(load(fixture('fraud-gbm-dynamic-width'))).rejects.toMatchObject({
      code: 'MODEL_SIGNATURE_MISMATCH',
      message: expect.stringContaining(
        'also runs on rows of 9 columns, so nothing shows that it reads the 8 features the manifest maps; re-export ' +
          "with a fixed width: skl2onnx initial_types=[('features', FloatTensorType([None, 8]))]",
      ),
    });
  });

  it('is refused when a linear classifier also runs on narrower rows', async () => {
    await expect(load(fixture('fraud-logreg-dynamic-width'))).rejects.toMatchObject({
      code: 'MODEL_SIGNATURE_MISMATCH',
      message: expect.stringContaining('also runs on rows of 7 columns'),
    });
  });
});

describe('other refusals', () => {
  it('refuses a float64 graph whose manifest says float32, saying which type to declare', async () => {
    const directory = await variant('fraud-hgb', (manifest) => {
      manifest.inputs = [{ name: 'features', type: 'float32', shape: [-1, 8] }];
    });
    await expect(load(directory)).rejects.toMatchObject({
      code: 'MODEL_SIGNATURE_MISMATCH',
      message: expect.stringContaining(
        "is float64, the manifest says float32: set the manifest's input type to float64",
      ),
    });
  });

  it("refuses a file onnxruntime cannot load, with onnxruntime's explanation", async () => {
    const directory = await variant('fraud-poison', () => undefined, Buffer.from('not an ONNX graph'));
    await expect(load(directory)).rejects.toMatchObject({
      code: 'MODEL_SIGNATURE_MISMATCH',
      message: expect.stringMatching(/onnxruntime cannot load model\.onnx: .*protobuf/i),
    });
  });
});
