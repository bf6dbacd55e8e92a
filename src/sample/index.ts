export { type DriftRule, parseDriftRule, withDrift } from './drift.js';
export { fraudProbability, SAMPLE_LABELS, type SampleLabel, sampleLabel } from './ground-truth.js';
export { type Random, seededRandom } from './random.js';
export {
  type CardTransaction,
  type Channel,
  type SampleOptions,
  sampleTransactions,
} from './transactions.js';
