export { type AutoRollback, watchCanaries } from './auto-rollback.js';
export {
  type DecisionOutcome,
  type Deployments,
  type DeploymentsOptions,
  deploymentCodec,
  openDeployments,
} from './channel.js';
export type {
  DeploymentController,
  DeploymentStatus,
  PlannedChallenger,
  ServingPlan,
} from './controller.js';
export {
  configuredState,
  type Decision,
  promote,
  type ResolvedDeployment,
  resolveDeployment,
  rollback,
  setChallengers,
  withdraw,
} from './decisions.js';
export {
  type CanaryBatch,
  type CanaryRules,
  type CanaryVerdict,
  createCanaryRules,
  type RollbackLimits,
  rollbackLimits,
} from './rules.js';
export { bucketsInto, CHAMPION, compileSplit, type KeySplit, rowsInSlice, type Slice } from './split.js';
export {
  type Challenger,
  type ChallengerMode,
  type DeploymentState,
  type ModelRef,
  parseChallenger,
  refOf,
} from './state.js';
