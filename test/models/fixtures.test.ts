/** Every model the repository ships, and the test fixtures, served as data scientists exported them. */
import { describe, expect, it } from 'vitest';
import { packagePath } from '../../src/config/index.js';
import { allocateFeatureRows } from '../../src/features/index.js';
import { createScoringSession } from '../../src/inference/index.js';
import { listVersions, readModelArtifact } from '../../src/models/index.js';
import { readGolden } from '../support/golden.js';
import { ZIPMAP_MODEL } from '../support/repository.js';

const servable = [
  ...(await listVersions(packagePath('models'), 'fraud-gbm')),
  ...(await listVersions(packagePath('models'), 'fraud-mlp')),
  ...(await listVersions(packagePath('models'), 'fraud-forest')),
  ...(await listVersions(packagePath('test/fixtures/models'), 'fraud-logreg')),
  ...(await listVersions(packagePath('test/fixtures/models'), 'fraud-gbm-v2')),
  ...(await listVersions(packagePath('test/fixtures/models'), 'fraud-mlp-dynamic-width')),
  ...(await listVersions(packagePath('test/fixtures/models'), 'fraud-mlp-subnormal')),
  ...(await listVersions(packagePath('test/fixtures/models'), 'fraud-hgb')),
  ...(await listVersions(packagePath('test/fixtures/models'), 'fraud-poison')),
  ...(await listVersions(packagePath('test/fixtures/models'), 'fraud-slow')),
];

describe('exported models', () => {
  it.each(servable.map((version) => [version.directory.replace(packagePath(''), ''), version.directory]))(
    '%s reproduces its training framework scores within 1e-5',
    async (relative, directory) => {
      const artifact = await readModelArtifact(directory);
      const session = await createScoringSession(artifact, { intraOpThreads: 1 });
      const golden = readGolden(relative);
      const rows = allocateFeatureRows(
        artifact.manifest.inputs[0]!.type,
        golden.length * golden[0]!.features.length,
      );
      rows.set(golden.flatMap((row) => row.features));
      const scores = await session.score(rows, golden.length);
      const worst = Math.max(...golden.map((row, index) => Math.abs(scores[index]! - row.score)));
      expect(worst).toBeLessThan(1e-5);
      await session.release();
    },
  );

  it('covers gradient boosting, a random forest, an MLP, a logistic regression and float64 inputs', () => {
    expect(servable.map((version) => version.directory.split('/').at(-2))).toEqual(
      expect.arrayContaining(['fraud-gbm', 'fraud-forest', 'fraud-mlp', 'fraud-logreg', 'fraud-hgb']),
    );
  });

  it('refuses a ZipMap export with the way to re-export it', async () => {
    const artifact = await readModelArtifact(ZIPMAP_MODEL);
    await expect(createScoringSession(artifact, { intraOpThreads: 1 })).rejects.toMatchObject({
      code: 'MODEL_SIGNATURE_MISMATCH',
      message: expect.stringContaining("options={id(model): {'zipmap': False}}"),
    });
  });
});
