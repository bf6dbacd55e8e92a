export { type ModelArtifact, readManifest, readModelArtifact } from './load.js';
export { type FeatureSpec, type FeatureTransform, type ModelManifest, manifestSchema } from './manifest.js';
export { listVersions, type RepositoryVersion, selectVersion } from './repository.js';
