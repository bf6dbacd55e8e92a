/**
 * Reads a model version from disk and proves it is the one its manifest describes. The bytes that were
 * checksummed are the bytes handed to the runtime, so a file swapped after the check cannot be loaded.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigurationError } from '../errors/index.js';
import { type ModelManifest, manifestSchema } from './manifest.js';

export interface ModelArtifact {
  readonly manifest: ModelManifest;
  readonly directory: string;
  /** The verified model file. */
  readonly bytes: Uint8Array;
}

export async function readManifest(directory: string): Promise<ModelManifest> {
  const path = join(directory, 'manifest.json');
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
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

export async function readModelArtifact(directory: string): Promise<ModelArtifact> {
  const manifest = await readManifest(directory);
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
  return { manifest, directory, bytes };
}
