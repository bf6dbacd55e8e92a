/**
 * A model repository on disk: `<repository>/<model>/<version>/` with `manifest.json` beside the model
 * file. A version exists once its manifest does, so publishing a version means copying the model file
 * first and the manifest last (or renaming a complete folder into place); a signed version's
 * `manifest.json.sig` goes in before the manifest too.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigurationError } from '../errors/index.js';
import { MANIFEST_FILE, SIGNATURE_FILE } from './signature.js';

export interface RepositoryVersion {
  version: string;
  directory: string;
  /**
   * What the manifest and its signature look like on disk (times, sizes, inodes, whether signed): when it
   * differs, a corrected version (or one signed after it was refused for lacking a signature) is tried again.
   */
  manifestStamp: string;
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
    const manifest = await stat(join(directory, MANIFEST_FILE)).catch(() => undefined);
    if (!manifest?.isFile()) continue;
    const signature = await stat(join(directory, SIGNATURE_FILE)).catch(() => undefined);
    // Not the later mtime alone: a signature written within the same clock tick as its manifest (the
    // filesystem's timestamps are coarse) would leave it unchanged, and a refused version never retried.
    const manifestStamp = [
      `${manifest.mtimeMs}:${manifest.size}:${manifest.ino}`,
      signature ? `${signature.mtimeMs}:${signature.size}:${signature.ino}` : 'unsigned',
    ].join('|');
    versions.push({ version, directory, manifestStamp });
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
