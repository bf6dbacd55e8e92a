/**
 * Reads a model version from disk and proves it is the one its manifest describes, and, when a public key
 * is configured, that the manifest is the one its publisher signed. Each file is read once: the manifest
 * bytes whose signature was verified are the bytes parsed, and the model bytes that were checksummed are
 * the bytes handed to the runtime, so a file swapped after a check cannot be loaded.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigurationError } from '../errors/index.js';
import { type ModelManifest, manifestSchema } from './manifest.js';
import { MANIFEST_FILE, verifyManifestSignature, writeManifestSignature } from './signature.js';

export interface ModelArtifact {
  readonly manifest: ModelManifest;
  readonly directory: string;
  /** The verified model file. */
  readonly bytes: Uint8Array;
}

export interface ReadModelOptions {
  /**
   * The Ed25519 public key of model.publicKeyFile: the version must carry `manifest.json.sig`, a valid
   * signature of its manifest by the private half. Absent: signatures are not checked.
   */
  publicKey?: KeyObject | undefined;
}

/** A version as read and verified, with the exact manifest bytes (what a signature covers). */
export interface VerifiedVersion {
  readonly artifact: ModelArtifact;
  readonly manifestBytes: Uint8Array;
}

async function readManifestBytes(directory: string): Promise<{ path: string; bytes: Buffer }> {
  const path = join(directory, MANIFEST_FILE);
  try {
    return { path, bytes: await readFile(path) };
  } catch (error) {
    throw new ConfigurationError('MODEL_MANIFEST_INVALID', `cannot read model manifest ${path}`, {
      cause: error,
    });
  }
}

function parseManifest(bytes: Buffer, path: string): ModelManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new ConfigurationError('MODEL_MANIFEST_INVALID', `cannot read model manifest ${path}`, {
      cause: error,
    });
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigurationError('MODEL_MANIFEST_INVALID', `${path}:\n${z.prettifyError(parsed.error)}`);
  }
  const manifest = parsed.data;
  const width = manifest.inputs[0]?.shape[1];
  if (width !== manifest.features.length) {
    throw new ConfigurationError(
      'MODEL_MANIFEST_INVALID',
      `${path}: input width ${width} differs from the ${manifest.features.length} features mapped`,
    );
  }
  return manifest;
}

export async function readManifest(directory: string): Promise<ModelManifest> {
  const { path, bytes } = await readManifestBytes(directory);
  return parseManifest(bytes, path);
}

/**
 * Checks in this order: the signature of the manifest bytes (when a public key is given), then the
 * manifest itself, then the model file's sha256 against the manifest, trusted by then.
 */
export async function readVerifiedVersion(
  directory: string,
  options: ReadModelOptions = {},
): Promise<VerifiedVersion> {
  const { path: manifestPath, bytes: manifestBytes } = await readManifestBytes(directory);
  if (options.publicKey) await verifyManifestSignature(directory, manifestBytes, options.publicKey);
  const manifest = parseManifest(manifestBytes, manifestPath);
  const path = join(directory, manifest.file);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new ConfigurationError('MODEL_MANIFEST_INVALID', `cannot read model file ${path}`, {
      cause: error,
    });
  }
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (digest !== manifest.sha256) {
    throw new ConfigurationError(
      'MODEL_CHECKSUM_MISMATCH',
      `refusing ${manifest.name}@${manifest.version}: ${path} has sha256 ${digest}, its manifest says ${manifest.sha256}`,
    );
  }
  return { artifact: { manifest, directory, bytes }, manifestBytes };
}

export async function readModelArtifact(
  directory: string,
  options: ReadModelOptions = {},
): Promise<ModelArtifact> {
  return (await readVerifiedVersion(directory, options)).artifact;
}

/**
 * Signs a version folder (`streamscore models sign`): the manifest must be valid and the model file must
 * match its sha256 before its exact bytes are signed, so a signature only ever vouches for a version that
 * loads. Writes `manifest.json.sig`; returns the version and the signature's path.
 */
export async function signVersion(
  directory: string,
  privateKey: KeyObject,
): Promise<{ manifest: ModelManifest; signaturePath: string }> {
  const { artifact, manifestBytes } = await readVerifiedVersion(directory);
  const signaturePath = await writeManifestSignature(directory, manifestBytes, privateKey);
  return { manifest: artifact.manifest, signaturePath };
}
