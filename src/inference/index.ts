export {
  type BatchingOptions,
  createMicroBatcher,
  type InferenceTiming,
  type MicroBatcher,
  type Schedule,
} from './batcher.js';
export { CACHE_WAYS, type CacheOptions, createPredictionCache, type PredictionCache } from './cache.js';
export { createExecutor, type Executor, type ExecutorOptions } from './executor.js';
export { type IsolatedScores, isRunFailure, scoreIsolatingFailures } from './isolation.js';
export {
  createModelPool,
  type LoadedVersion,
  type ModelPool,
  type PoolOptions,
  type ServingModel,
  versionId,
} from './pool.js';
export { createScoringSession, type ScoringSession, type SessionOptions } from './session.js';
export { zeroSubnormalWeights } from './subnormal.js';
