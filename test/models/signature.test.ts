/**
 * Manifest signatures: what a version must carry when model.publicKeyFile is set, what is refused and why,
 * the public key setting's own refusals, and the ways to sign (the CLI, openssl) the loader accepts.
 */
import { execFile } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAvroSchema } from '../../src/codec/index.js';
import { packagePath } from '../../src/config/index.js';
import { startDeploymentController } from '../../src/deployments/controller.js';
import { configuredState } from '../../src/deployments/index.js';
import { ConfigurationError } from '../../src/errors/index.js';
import { createExecutor, createModelPool } from '../../src/inference/index.js';
import {
  readManifest,
  readModelArtifact,
  readModelPublicKey,
  readSigningKey,
  SIGNATURE_FILE,
  signVersion,
} from '../../src/models/index.js';
import { capturingLogger } from '../support/logs.js';
import {
  MODEL_V1,
  MODEL_V2,
  publishFolder,
  publishVersion,
  signingKeys,
  stageSignedVersion,
  swapModelKeepingSignature,
  temporaryRepository,
} from '../support/repository.js';

const run = promisify(execFile);
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const { privateKey, publicKey } = await signingKeys();

describe('a signed version, with a public key configured', () => {
  it('is accepted when its signature verifies', async () => {
    const folder = await stageSignedVersion(MODEL_V1, '1', privateKey);
    const artifact = await readModelArtifact(folder, { publicKey });
    expect(artifact.manifest).toMatchObject({ name: 'fraud-gbm', version: '1' });
    const modelFile = await readFile(join(MODEL_V1, 'model.onnx'));
    expect(Buffer.from(artifact.bytes).equals(modelFile)).toBe(true);
  });

  it('is refused without manifest.json.sig', async () => {
    const folder = await publishVersion(await temporaryRepository(), MODEL_V1, '1');
    await expect(readModelArtifact(folder, { publicKey })).rejects.toMatchObject({
      name: 'ConfigurationError',
      code: 'MANIFEST_SIGNATURE_INVALID',
      message: expect.stringContaining('manifest.json.sig is missing'),
    });
  });

  it('is refused when another key signed it', async () => {
    const other = generateKeyPairSync('ed25519').privateKey;
    const folder = await stageSignedVersion(MODEL_V1, '1', other);
    await expect(readModelArtifact(folder, { publicKey })).rejects.toMatchObject({
      code: 'MANIFEST_SIGNATURE_INVALID',
      message: expect.stringContaining('does not match its signature'),
    });
  });

  it('is refused when its manifest changed after signing', async () => {
    const folder = await stageSignedVersion(MODEL_V1, '1', privateKey);
    const path = join(folder, 'manifest.json');
    const manifest = JSON.parse(await readFile(path, 'utf8')) as { threshold: number };
    manifest.threshold = 0.99;
    await writeFile(path, JSON.stringify(manifest, null, 2));
    await expect(readModelArtifact(folder, { publicKey })).rejects.toMatchObject({
      code: 'MANIFEST_SIGNATURE_INVALID',
    });
    // A byte is enough: the signature is over the exact bytes, not the JSON they parse to.
    const signed = await stageSignedVersion(MODEL_V1, '1', privateKey);
    await writeFile(
      join(signed, 'manifest.json'),
      `${await readFile(join(signed, 'manifest.json'), 'utf8')}\n`,
    );
    await expect(readModelArtifact(signed, { publicKey })).rejects.toMatchObject({
      code: 'MANIFEST_SIGNATURE_INVALID',
    });
  });

  it('is refused by the checksum when its model file was swapped and the manifest left alone', async () => {
    const folder = await stageSignedVersion(MODEL_V1, '1', privateKey);
    await writeFile(join(folder, 'model.onnx'), await readFile(join(MODEL_V2, 'model.onnx')));
    await expect(readModelArtifact(folder, { publicKey })).rejects.toMatchObject({
      code: 'MODEL_CHECKSUM_MISMATCH',
    });
  });

  it("is refused by the signature when its model file was swapped and the manifest's sha256 updated", async () => {
    const folder = await stageSignedVersion(MODEL_V1, '1', privateKey);
    await swapModelKeepingSignature(folder, join(MODEL_V2, 'model.onnx'));
    // Without a key the swap would pass: the checksum matches the new file.
    await expect(readModelArtifact(folder)).resolves.toMatchObject({ manifest: { version: '1' } });
    await expect(readModelArtifact(folder, { publicKey })).rejects.toMatchObject({
      code: 'MANIFEST_SIGNATURE_INVALID',
    });
  });

  it('checks the signature before believing anything the manifest says', async () => {
    const folder = await publishVersion(await temporaryRepository(), MODEL_V1, '1');
    await writeFile(join(folder, 'manifest.json'), '{ not json');
    await expect(readModelArtifact(folder, { publicKey })).rejects.toMatchObject({
      code: 'MANIFEST_SIGNATURE_INVALID',
    });
    await expect(readModelArtifact(folder)).rejects.toMatchObject({ code: 'MODEL_MANIFEST_INVALID' });
  });

  it('is refused when manifest.json.sig is not a base64 Ed25519 signature', async () => {
    const folder = await stageSignedVersion(MODEL_V1, '1', privateKey);
    for (const content of ['not base64 at all!', Buffer.alloc(48).toString('base64'), '']) {
      await writeFile(join(folder, SIGNATURE_FILE), content);
      await expect(readModelArtifact(folder, { publicKey })).rejects.toMatchObject({
        code: 'MANIFEST_SIGNATURE_INVALID',
        message: expect.stringContaining('is not a base64 Ed25519 signature'),
      });
    }
  });

  it('accepts the signature wrapped over lines, as base64 without -w0 writes it', async () => {
    const folder = await stageSignedVersion(MODEL_V1, '1', privateKey);
    const encoded = (await readFile(join(folder, SIGNATURE_FILE), 'utf8')).trim();
    await writeFile(join(folder, SIGNATURE_FILE), `${encoded.slice(0, 76)}\n${encoded.slice(76)}\n`);
    await expect(readModelArtifact(folder, { publicKey })).resolves.toBeDefined();
  });

  it('is not checked without a public key: an unsigned or badly signed version loads', async () => {
    const folder = await stageSignedVersion(MODEL_V1, '1', generateKeyPairSync('ed25519').privateKey);
    await expect(readModelArtifact(folder)).resolves.toBeDefined();
    await expect(readModelArtifact(MODEL_V1)).resolves.toBeDefined();
  });

  it('refuses to sign a version whose model file does not match its manifest', async () => {
    const folder = await publishVersion(await temporaryRepository(), MODEL_V1, '1');
    await writeFile(join(folder, 'model.onnx'), await readFile(join(MODEL_V2, 'model.onnx')));
    await expect(signVersion(folder, privateKey)).rejects.toMatchObject({ code: 'MODEL_CHECKSUM_MISMATCH' });
    await expect(stat(join(folder, SIGNATURE_FILE))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('model.publicKeyFile', () => {
  const pem = (key: KeyObject) => String(key.export({ type: 'spki', format: 'pem' }));
  /** The base64 lines of a PEM: key material that must appear in no message. */
  const materialOf = (text: string) => text.split('\n').filter((line) => line && !line.startsWith('-----'));

  async function refusal(content: string | undefined): Promise<ConfigurationError> {
    const folder = await temporaryRepository();
    const path = join(folder, 'key.pem');
    if (content !== undefined) await writeFile(path, content);
    const error = await readModelPublicKey(path).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ConfigurationError);
    const refused = error as ConfigurationError;
    expect(refused.code).toBe('CONFIG_INVALID');
    expect(refused.message).toContain('model.publicKeyFile (STREAMSCORE_MODEL_PUBLIC_KEY_FILE)');
    expect(refused.message).toContain(path);
    for (const line of materialOf(content ?? '')) {
      expect(refused.message).not.toContain(line);
      expect(JSON.stringify(refused)).not.toContain(line);
      expect(String(refused.stack)).not.toContain(line);
    }
    expect(refused.cause).toBeUndefined();
    return refused;
  }

  it('reads an Ed25519 public key', async () => {
    const { publicKeyFile } = await signingKeys();
    expect((await readModelPublicKey(publicKeyFile)).asymmetricKeyType).toBe('ed25519');
  });

  it('is refused, naming the setting and no key material, when unreadable, private, not Ed25519, or not a key', async () => {
    expect((await refusal(undefined)).message).toMatch(/cannot read .*: ENOENT$/);

    const ed25519 = generateKeyPairSync('ed25519');
    const privatePem = String(ed25519.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect((await refusal(privatePem)).message).toContain('holds a private key');

    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    expect((await refusal(pem(rsa))).message).toContain('is a rsa key, not Ed25519');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    expect((await refusal(pem(ec))).message).toContain('is a ec key, not Ed25519');

    const garbage = `-----BEGIN PUBLIC KEY-----\n${randomBytes(44).toString('base64')}\n-----END PUBLIC KEY-----\n`;
    expect((await refusal(garbage)).message).toContain('is not a PEM public key');
    expect((await refusal('')).message).toContain('is not a PEM public key');
  });
});

describe('signing tools', () => {
  const cli = [...['--import', 'tsx'], packagePath('src/cli/main.ts')];
  const streamscore = (...args: string[]) =>
    run(process.execPath, [...cli, ...args], { cwd: packagePath('') });

  it('streamscore models keygen and sign give a signature the loader accepts', async () => {
    const keys = join(await temporaryRepository(), 'keys');
    const generated = await streamscore('models', 'keygen', keys);
    const privateKeyFile = join(keys, 'model-signing-key.pem');
    const publicKeyFile = join(keys, 'model-signing-key.pub.pem');
    expect(generated.stdout).toContain(privateKeyFile);
    expect((await stat(privateKeyFile)).mode & 0o777).toBe(0o600);
    // An existing key is never overwritten.
    await expect(streamscore('models', 'keygen', keys)).rejects.toMatchObject({ code: 1 });

    const folder = await publishVersion(await temporaryRepository(), MODEL_V1, '7');
    const signed = await streamscore('models', 'sign', folder, '--key', privateKeyFile);
    expect(signed.stdout.trim()).toBe(`signed fraud-gbm@7: wrote ${join(folder, SIGNATURE_FILE)}`);
    const publicKey = await readModelPublicKey(publicKeyFile);
    await expect(readModelArtifact(folder, { publicKey })).resolves.toMatchObject({
      manifest: { version: '7' },
    });

    // The public key is no signing key.
    await expect(readSigningKey(publicKeyFile)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('is not an unencrypted PEM private key'),
    });
  }, 30_000);

  it('the openssl command in MANIFEST-FORMAT.md gives a signature the loader accepts', async () => {
    const keys = await temporaryRepository();
    const key = join(keys, 'key.pem');
    const publicKeyFile = join(keys, 'key.pub.pem');
    await run('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', key]);
    await run('openssl', ['pkey', '-in', key, '-pubout', '-out', publicKeyFile]);
    const folder = await publishVersion(await temporaryRepository(), MODEL_V2, '3');
    await run(
      'sh',
      ['-c', `openssl pkeyutl -sign -rawin -inkey "$KEY" -in manifest.json | base64 -w0 > ${SIGNATURE_FILE}`],
      { cwd: folder, env: { ...process.env, KEY: key } },
    );
    const publicKey = await readModelPublicKey(publicKeyFile);
    await expect(readModelArtifact(folder, { publicKey })).resolves.toMatchObject({
      manifest: { version: '3' },
    });
    // And the other way: what `streamscore models sign` writes, openssl verifies.
    await signVersion(folder, createPrivateKey(await readFile(key)));
    const signature = join(keys, 'manifest.sig.bin');
    await writeFile(signature, Buffer.from(await readFile(join(folder, SIGNATURE_FILE), 'utf8'), 'base64'));
    const verified = await run('openssl', [
      ...['pkeyutl', '-verify', '-rawin', '-pubin', '-inkey', publicKeyFile],
      ...['-in', join(folder, 'manifest.json'), '-sigfile', signature],
    ]);
    expect(verified.stdout).toContain('Signature Verified Successfully');
  });
});

describe('the deployment controller with a public key', () => {
  const inputType = loadAvroSchema(packagePath('schemas/card-transaction.avsc'));

  async function serve(repository: string, publicKeyFile: string) {
    const executor = createExecutor({ workers: 1, intraOpThreads: 1 });
    const pool = createModelPool(inputType, executor, {
      batching: { maxBatchSize: 64, maxDelayMicros: 200 },
    });
    cleanups.push(async () => {
      await pool.close();
      await executor.close();
    });
    const { logger, lines } = capturingLogger();
    const controller = await startDeploymentController(
      pool,
      configuredState('fraud-gbm', { model: 'fraud-gbm', version: 'latest' }, []),
      { repository, pollIntervalMs: 0, publicKey: await readModelPublicKey(publicKeyFile) },
      logger,
    );
    cleanups.unshift(async () => controller.stop());
    return { controller, lines };
  }

  it('refuses an unsigned version while the signed one serves, and takes it once it is signed', async () => {
    const { privateKey, publicKeyFile } = await signingKeys();
    const repository = await temporaryRepository();
    await publishFolder(repository, await stageSignedVersion(MODEL_V1, '1', privateKey), '1');
    const { controller, lines } = await serve(repository, publicKeyFile);
    expect(controller.plan().champion).toBe('fraud-gbm@1');

    const unsigned = await publishVersion(repository, MODEL_V2, '2');
    await controller.apply(controller.state);
    expect(controller.plan().champion).toBe('fraud-gbm@1');
    const refused = lines.filter(
      (line) => line.msg === 'model version refused; the serving version keeps serving',
    );
    expect(refused).toMatchObject([{ version: '2', code: 'MANIFEST_SIGNATURE_INVALID', level: 50 }]);
    expect(controller.status().unavailable.map(({ id }) => id)).toEqual(['fraud-gbm@2']);

    // Signed in place afterwards, its manifest untouched: the new signature is reason to try it again.
    await signVersion(unsigned, privateKey);
    await controller.apply(controller.state);
    expect(controller.plan().champion).toBe('fraud-gbm@2');
    expect(controller.status().unavailable).toEqual([]);
    expect((await readManifest(unsigned)).version).toBe('2');
  });

  it('does not start when no version is signed', async () => {
    const { publicKeyFile } = await signingKeys();
    const repository = await temporaryRepository();
    await publishVersion(repository, MODEL_V1, '1');
    await expect(serve(repository, publicKeyFile)).rejects.toMatchObject({
      message: expect.stringContaining('manifest.json.sig is missing'),
    });
  });
});
