/**
 * Manifest signatures (models/MANIFEST-FORMAT.md): Ed25519 over the exact bytes of `manifest.json`, stored
 * base64 in `manifest.json.sig` beside it. The manifest carries the model file's sha256, so the signature
 * covers the model too: whoever can write to the model volume but holds no private key cannot serve a
 * model of their own. Messages name files and settings, never key material.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigurationError } from '../errors/index.js';

export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.json.sig';

const PUBLIC_KEY_SETTING = 'model.publicKeyFile (STREAMSCORE_MODEL_PUBLIC_KEY_FILE)';
const ED25519_SIGNATURE_BYTES = 64;
const PRIVATE_PEM = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

const reasonOf = (error: unknown) => (error as NodeJS.ErrnoException).code ?? 'unreadable';

/** Reads the PEM text of a key file; the message names the file and the errno, never the content. */
async function readKeyText(path: string, setting: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigurationError('CONFIG_INVALID', `cannot read ${setting} ${path}: ${reasonOf(error)}`);
  }
}

/**
 * The public key versions must be signed with, read once at start. An unreadable file, a private key, or
 * anything but an Ed25519 public key is a configuration error naming the setting.
 */
export async function readModelPublicKey(path: string): Promise<KeyObject> {
  const text = await readKeyText(path, PUBLIC_KEY_SETTING);
  // A private key would parse (its public half is derived), but it has no business on a serving host.
  if (PRIVATE_PEM.test(text)) {
    throw new ConfigurationError(
      'CONFIG_INVALID',
      `${PUBLIC_KEY_SETTING} ${path} holds a private key: give the service the public key only, and keep the private key where versions are signed`,
    );
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: text, format: 'pem' });
  } catch {
    // OpenSSL's reason is left out on purpose: nothing read from the file goes into the message.
    throw new ConfigurationError('CONFIG_INVALID', `${PUBLIC_KEY_SETTING} ${path} is not a PEM public key`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new ConfigurationError(
      'CONFIG_INVALID',
      `${PUBLIC_KEY_SETTING} ${path} is a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`,
    );
  }
  return key;
}

/** The Ed25519 private key a version is signed with (`streamscore models sign --key`). */
export async function readSigningKey(path: string): Promise<KeyObject> {
  const text = await readKeyText(path, 'signing key');
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: 'pem' });
  } catch {
    throw new ConfigurationError(
      'CONFIG_INVALID',
      `signing key ${path} is not an unencrypted PEM private key`,
    );
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new ConfigurationError(
      'CONFIG_INVALID',
      `signing key ${path} is a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`,
    );
  }
  return key;
}

/** The base64 Ed25519 signature of a manifest's exact bytes, as `manifest.json.sig` holds it. */
export function signManifest(manifestBytes: Uint8Array, privateKey: KeyObject): string {
  return sign(null, manifestBytes, privateKey).toString('base64');
}

/**
 * Proves `manifestBytes` (the bytes of `<directory>/manifest.json`, read once by the caller) were signed
 * with the private half of `publicKey`; throws MANIFEST_SIGNATURE_INVALID otherwise, a missing signature
 * included. Runs before the manifest is parsed, so nothing it says is believed before it is verified.
 */
export async function verifyManifestSignature(
  directory: string,
  manifestBytes: Uint8Array,
  publicKey: KeyObject,
): Promise<void> {
  const path = join(directory, SIGNATURE_FILE);
  const refuse = (why: string) =>
    new ConfigurationError('MANIFEST_SIGNATURE_INVALID', `refusing the version in ${directory}: ${why}`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw reasonOf(error) === 'ENOENT'
      ? refuse(`${SIGNATURE_FILE} is missing, and model.publicKeyFile requires every version to be signed`)
      : refuse(`cannot read ${path}: ${reasonOf(error)}`);
  }
  // base64 as `base64 -w0` writes it; line breaks and a trailing newline are tolerated.
  const encoded = text.replace(/\s+/g, '');
  const signature = Buffer.from(encoded, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || signature.length !== ED25519_SIGNATURE_BYTES) {
    throw refuse(`${path} is not a base64 Ed25519 signature (${ED25519_SIGNATURE_BYTES} bytes)`);
  }
  if (!verify(null, manifestBytes, publicKey, signature)) {
    throw refuse(
      `${MANIFEST_FILE} does not match its signature ${SIGNATURE_FILE} (changed after signing, or signed with another key)`,
    );
  }
}

/**
 * Writes `<directory>/manifest.json.sig` for the manifest bytes given, through a temporary file renamed
 * into place, so a repository poller never reads half a signature.
 */
export async function writeManifestSignature(
  directory: string,
  manifestBytes: Uint8Array,
  privateKey: KeyObject,
): Promise<string> {
  const path = join(directory, SIGNATURE_FILE);
  const staging = `${path}.${process.pid}.tmp`;
  await writeFile(staging, `${signManifest(manifestBytes, privateKey)}\n`);
  await rename(staging, path);
  return path;
}

/** A new Ed25519 key pair, PEM: PKCS#8 private key, SPKI public key. */
export function generateSigningKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
