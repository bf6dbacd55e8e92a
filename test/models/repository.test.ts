import { utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listVersions } from '../../src/models/index.js';
import { MODEL_V1, publishVersion, temporaryRepository } from '../support/repository.js';

describe('the model repository', () => {
  it('sees a signature written in the same clock tick as its manifest as a change', async () => {
    const repository = await temporaryRepository();
    const folder = await publishVersion(repository, MODEL_V1, '1');
    const [unsigned] = await listVersions(repository, 'fraud-gbm');
    // Filesystem timestamps are coarse: give the signature the manifest's very mtime.
    const signature = join(folder, 'manifest.json.sig');
    await writeFile(signature, 'c2lnbmF0dXJl\n');
    const manifestTime = new Date(Number(unsigned!.manifestStamp.split(':')[0]));
    await utimes(signature, manifestTime, manifestTime);
    await utimes(join(folder, 'manifest.json'), manifestTime, manifestTime);
    const [signed] = await listVersions(repository, 'fraud-gbm');
    expect(signed!.manifestStamp).not.toBe(unsigned!.manifestStamp);
  });

  it('gives an unchanged version the same stamp at every look', async () => {
    const repository = await temporaryRepository();
    await publishVersion(repository, MODEL_V1, '1');
    const [first] = await listVersions(repository, 'fraud-gbm');
    const [second] = await listVersions(repository, 'fraud-gbm');
    expect(second!.manifestStamp).toBe(first!.manifestStamp);
  });
});
