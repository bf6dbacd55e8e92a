/**
 * A model repository on disk: `<repository>/<model>/<version>/` with `manifest.json` beside the model
 * file. A version exists once its manifest does, so publishing a version means copying the model file
 * first and the manifest last (or renaming a complete folder into place).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigurationError } from '../errors/index.js';

export interface RepositoryVersion {
  version: string;
  directory: string;
  /** Last change of the manifest, so a corrected version can be retried. */
  manifestChangedAt: number;
}

const versionOrder = new Intl.Collator('en', { numeric: true });

/** The model's versions, oldest first in natural order (2 before 10). */
export async function listVersions(repository: string, model: string): Promise<RepositoryVersion[]> {
  const modelDirectory = join(repository, model);
  let entries: string[];
  try {
    entries = await readdir(modelDirectory);
  } catch (error) {
    throw new ConfigurationError('MODEL_MANIFEST_INVALID', `model folder ${modelDirectory} cannot be read`, {
      cause: error,
    });
  }
  const versions: RepositoryVersion[] = [];
  for (const version of entries) {
    const directory = join(modelDirectory, version);
    const manifest = await stat(join(directory, 'manifest.json')).catch(() => undefined);
    if (manifest?.isFile()) versions.push({ version, directory, manifestChangedAt: manifest.mtimeMs });
  }
  return versions.sort((a, b) => versionOrder.compare(a.version, b.version));
}

/** 'latest' picks the highest version that is not excluded; anything else pins that version. */
export function selectVersion(
  versions: readonly RepositoryVersion[],
  policy: string,
  excluded: (version: string) => boolean = () => false,
): RepositoryVersion | undefined {
  if (policy !== 'latest') return versions.find((candidate) => candidate.version === policy);
  return versions.filter((candidate) => !excluded(candidate.version)).at(-1);
}
