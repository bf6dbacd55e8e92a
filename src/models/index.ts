export {
  type ModelArtifact,
  type ReadModelOptions,
  readManifest,
  readModelArtifact,
  readVerifiedVersion,
  signVersion,
  type VerifiedVersion,
} from './load.js';
export {
  type BaselineBins,
  type FeatureSpec,
  type FeatureTransform,
  type ModelBaseline,
  type ModelExplanation,
  type ModelManifest,
  manifestSchema,
} from './manifest.js';
export { listVersions, type RepositoryVersion, selectVersion } from './repository.js';
export {
  generateSigningKeyPair,
  MANIFEST_FILE,
  readModelPublicKey,
  readSigningKey,
  SIGNATURE_FILE,
  signManifest,
  verifyManifestSignature,
  writeManifestSignature,
} from './signature.js';
