import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { copyFile, cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packagePath } from '../../src/config/index.js';
import { signVersion } from '../../src/models/index.js';

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

/** An Ed25519 key pair for signing versions, the public key also as a PEM file (model.publicKeyFile). */
export async function signingKeys(): Promise<{
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicKeyFile: string;
}> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicKeyFile = join(await mkdtemp(join(tmpdir(), 'streamscore-keys-')), 'model-signing-key.pub.pem');
  await writeFile(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }));
  return { privateKey, publicKey, publicKeyFile };
}

/**
 * A version prepared outside any repository (as a publisher does before copying it in): `source` as
 * `<staging>/<name>/<version>`, its manifest edited like publishVersion does, and signed with `privateKey`.
 */
export async function stageSignedVersion(
  source: string,
  version: string,
  privateKey: KeyObject,
  edit: (manifest: Record<string, unknown>) => void = () => undefined,
  name = 'fraud-gbm',
): Promise<string> {
  const folder = await publishVersion(await temporaryRepository(), source, version, edit, name);
  await signVersion(folder, privateKey);
  return folder;
}

/**
 * What someone who can write to the model volume but holds no key can do to a signed version: put another
 * model file in, and update the manifest's sha256 to match it, so the checksum passes. The signature is kept.
 */
export async function swapModelKeepingSignature(folder: string, otherModelFile: string): Promise<void> {
  const path = join(folder, 'manifest.json');
  const manifest = JSON.parse(await readFile(path, 'utf8')) as { file: string; sha256: string };
  await copyFile(otherModelFile, join(folder, manifest.file));
  manifest.sha256 = createHash('sha256')
    .update(await readFile(otherModelFile))
    .digest('hex');
  await writeFile(path, JSON.stringify(manifest, null, 2));
}

/**
 * Copies a version folder into `<repository>/<name>/<version>` byte for byte (a signature stays valid),
 * every other file first and the manifest last, as an operator publishes.
 */
export async function publishFolder(
  repository: string,
  folder: string,
  version: string,
  name = 'fraud-gbm',
): Promise<string> {
  const target = join(repository, name, version);
  await cp(folder, target, { recursive: true, filter: (path) => !path.endsWith('manifest.json') });
  await copyFile(join(folder, 'manifest.json'), join(target, 'manifest.json'));
  return target;
}
