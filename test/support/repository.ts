import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packagePath } from '../../src/config/index.js';

export const MODEL_V1 = packagePath('models/fraud-gbm/1');
export const MODEL_V2 = packagePath('test/fixtures/models/fraud-gbm-v2/2');
export const ZIPMAP_MODEL = packagePath('test/fixtures/models/fraud-logreg-zipmap/1');

/** A model repository in a temporary folder, to publish versions into while a test runs. */
export async function temporaryRepository(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'streamscore-repository-'));
}

/**
 * Publishes a model folder as `<repository>/<name>/<version>`, manifest last, as an operator would.
 * `edit` may change the manifest (name, version, ...) on the way.
 */
export async function publishVersion(
  repository: string,
  source: string,
  version: string,
  edit: (manifest: Record<string, unknown>) => void = () => undefined,
  name = 'fraud-gbm',
): Promise<string> {
  const target = join(repository, name, version);
  await cp(source, target, { recursive: true, filter: (path) => !path.endsWith('manifest.json') });
  const manifest = JSON.parse(await readFile(join(source, 'manifest.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  manifest.name = name;
  manifest.version = version;
  edit(manifest);
  await writeFile(join(target, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return target;
}
