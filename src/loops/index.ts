export { type LoopsOptions, loopConfig, loopCount, type RunningLoops, startLoops } from './host.js';
export { mergeExpositions } from './metrics.js';
