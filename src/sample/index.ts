export { type DriftRule, parseDriftRule, withDrift } from './drift.js';
export { type Random, seededRandom } from './random.js';
export {
  type CardTransaction,
  type Channel,
  type SampleOptions,
  sampleTransactions,
} from './transactions.js';
