/**
 * Decisions as pure functions from one deployment state to the next, and the resolution of a state
 * against the model repository: which concrete versions it serves. Every instance resolves the same state
 * against the same repository the same way.
 */
import { ConfigurationError } from '../errors/index.js';
import { type RepositoryVersion, selectVersion } from '../models/index.js';
import { compileSplit } from './split.js';
import { type Challenger, type DeploymentState, type ModelRef, refOf } from './state.js';

export interface Decision {
  by: string;
  reason: string;
  /** The figures an automatic decision was taken on. */
  figures?: Record<string, number>;
}

/** The state the configuration gives until the control topic holds a decision. */
export function configuredState(
  deployment: string,
  champion: ModelRef,
  challengers: readonly Challenger[],
): DeploymentState {
  return {
    deployment,
    revision: 0,
    based_on: 0,
    action: 'initial',
    decided_at: 0,
    decided_by: 'configuration',
    reason: 'the configuration in force until a decision is published',
    champion,
    previous: null,
    challengers: [...challengers],
    refused: [],
    figures: {},
  };
}

function next(
  current: DeploymentState,
  changes: Partial<Pick<DeploymentState, 'champion' | 'previous' | 'challengers' | 'refused'>>,
  action: string,
  decision: Decision,
): DeploymentState {
  return {
    ...current,
    ...changes,
    revision: current.revision + 1,
    based_on: current.revision,
    action,
    decided_at: Date.now(),
    decided_by: decision.by,
    reason: decision.reason,
    figures: decision.figures ?? {},
  };
}

const refusing = (refused: readonly string[], ref: ModelRef) => [...new Set([...refused, refOf(ref)])];

function refuse(message: string): ConfigurationError {
  return new ConfigurationError('DECISION_REFUSED', message);
}

/** A concrete version the state resolves to, found in the repository. */
export interface ResolvedVersion extends ModelRef {
  directory: string;
  manifestStamp: string;
}

export interface ResolvedDeployment {
  champion: ResolvedVersion;
  /** What a rollback returns to: kept loaded, so it serves at once. */
  standby: ResolvedVersion | undefined;
  challengers: (Challenger & { directory: string; manifestStamp: string })[];
}

/** The repository's versions of each model (oldest first), as listVersions gives them. */
export type VersionsOf = (model: string) => readonly RepositoryVersion[];

/**
 * Versions that failed verification here (checksum, signature): skipped when choosing what `latest` or a
 * rollback lands on, as refused ones are, so a rollback never targets a version that cannot load.
 */
export type Unusable = (model: string, version: RepositoryVersion) => boolean;

function resolved(model: string, version: RepositoryVersion): ResolvedVersion {
  return {
    model,
    version: version.version,
    directory: version.directory,
    manifestStamp: version.manifestStamp,
  };
}

/**
 * The concrete versions a state serves. `latest` is the highest version not refused. The standby is the
 * champion before the last promotion, or else the highest version below the champion not refused.
 */
export function resolveDeployment(
  state: DeploymentState,
  versionsOf: VersionsOf,
  unusable: Unusable = () => false,
): ResolvedDeployment {
  const refused = new Set(state.refused);
  const isRefused = (model: string) => (version: string) => refused.has(refOf({ model, version }));
  const { champion } = state;
  const championVersions = versionsOf(champion.model).filter((version) => !unusable(champion.model, version));
  const selected = selectVersion(championVersions, champion.version, isRefused(champion.model));
  if (!selected) {
    throw new ConfigurationError(
      'MODEL_MANIFEST_INVALID',
      `no version ${champion.version} of model ${champion.model} to serve (refused: ${state.refused.join(', ') || 'none'})`,
    );
  }
  const championVersion = resolved(champion.model, selected);
  const previous =
    state.previous &&
    versionsOf(state.previous.model).find(
      (v) => v.version === state.previous?.version && !unusable(state.previous.model, v),
    );
  const below = championVersions
    .slice(0, championVersions.indexOf(selected))
    .filter((v) => !isRefused(champion.model)(v.version));
  const previousServes =
    previous &&
    state.previous &&
    !refused.has(refOf(state.previous)) &&
    refOf(state.previous) !== refOf(championVersion);
  const standby =
    previousServes && previous && state.previous
      ? resolved(state.previous.model, previous)
      : below.length > 0
        ? resolved(champion.model, below.at(-1)!)
        : undefined;
  const challengers = state.challengers.flatMap((challenger) => {
    const version = versionsOf(challenger.model).find((v) => v.version === challenger.version);
    return version
      ? [{ ...challenger, directory: version.directory, manifestStamp: version.manifestStamp }]
      : [];
  });
  return { champion: championVersion, standby, challengers };
}

/** Serve the standby again and refuse the champion. A `latest` policy stays `latest` when that is the same. */
export function rollback(
  current: DeploymentState,
  serving: ResolvedDeployment,
  decision: Decision,
): DeploymentState {
  const target = serving.standby;
  if (!target) throw refuse(`${current.deployment} has no previous version to roll back to`);
  const from = serving.champion;
  const staysLatest =
    current.champion.version === 'latest' &&
    current.previous === null &&
    target.model === current.champion.model;
  return next(
    current,
    {
      champion: staysLatest ? current.champion : { model: target.model, version: target.version },
      previous: null,
      refused: refusing(current.refused, from),
    },
    'rollback',
    decision,
  );
}

/** The challenger becomes the champion; the champion it replaces becomes what a rollback returns to. */
export function promote(
  current: DeploymentState,
  serving: ResolvedDeployment,
  variant: string,
  decision: Decision,
): DeploymentState {
  const challenger = current.challengers.find((candidate) => candidate.variant === variant);
  if (!challenger) throw refuse(`${current.deployment} has no challenger ${variant}`);
  return next(
    current,
    {
      champion: { model: challenger.model, version: challenger.version },
      previous: { model: serving.champion.model, version: serving.champion.version },
      challengers: current.challengers.filter((candidate) => candidate !== challenger),
      refused: current.refused.filter((ref) => ref !== refOf(challenger)),
    },
    'promote',
    decision,
  );
}

/** Takes a challenger out and refuses its version: how a failing canary is rolled back. */
export function withdraw(
  current: DeploymentState,
  variant: string,
  decision: Decision,
  action = 'rollback',
): DeploymentState {
  const challenger = current.challengers.find((candidate) => candidate.variant === variant);
  if (!challenger) throw refuse(`${current.deployment} has no challenger ${variant}`);
  return next(
    current,
    {
      challengers: current.challengers.filter((candidate) => candidate !== challenger),
      refused: refusing(current.refused, challenger),
    },
    action,
    decision,
  );
}

/** Replaces the challengers (an empty list ends every experiment). */
export function setChallengers(
  current: DeploymentState,
  challengers: readonly Challenger[],
  decision: Decision,
): DeploymentState {
  const variants = new Set(challengers.map((challenger) => challenger.variant));
  if (variants.size !== challengers.length) throw refuse('two challengers share a variant name');
  // The split checks the shares (each 0 to 1, canaries at most every key, rounding allowed for).
  try {
    compileSplit(challengers);
  } catch (error) {
    throw refuse(error instanceof Error ? error.message : String(error));
  }
  return next(current, { challengers: [...challengers] }, 'challengers', decision);
}
