export {
  createExperimentFigures,
  type ExperimentFigures,
  type ExperimentsSummary,
  type PairMember,
  type PairSummary,
} from './figures.js';
export { formatPair, formatSummary } from './format.js';
export { registerExperimentMetrics } from './metrics.js';
export { PSI_EMPTY_BIN_SHARE, populationStabilityIndex, psiBin } from './psi.js';
export type { Figures } from './tally.js';
export { type WatchedExperiments, watchExperiments } from './watch.js';
