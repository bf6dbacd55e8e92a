/** Every model the repository ships, and the test fixtures, served as data scientists exported them. */
import { describe, expect, it } from 'vitest';
import { packagePath } from '../../src/config/index.js';
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
];

describe('exported models', () => {
  it.each(servable.map((version) => [version.directory.replace(packagePath(''), ''), version.directory]))(
    '%s reproduces its training framework scores within 1e-5',
    async (relative, directory) => {
      const session = await createScoringSession(await readModelArtifact(directory), { intraOpThreads: 1 });
      const golden = readGolden(relative);
      const scores = await session.score(
        new Float32Array(golden.flatMap((row) => row.features)),
        golden.length,
      );
      const worst = Math.max(...golden.map((row, index) => Math.abs(scores[index]! - row.score)));
      expect(worst).toBeLessThan(1e-5);
      await session.release();
    },
  );

  it('covers gradient boosting, a random forest, an MLP and a logistic regression', () => {
    expect(servable.map((version) => version.directory.split('/').at(-2))).toEqual(
      expect.arrayContaining(['fraud-gbm', 'fraud-forest', 'fraud-mlp', 'fraud-logreg']),
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
