/**
 * Makes the model pool serve what the deployment state says: resolves the state against the repository,
 * loads and verifies what it names (champion, standby, challengers) before anything switches, then swaps
 * the serving plan in one assignment, so the next partition batch, and only a whole batch, sees the new
 * plan. A version that fails verification (its manifest's signature when a public key is configured, its
 * model file's checksum, its graph) is refused with one ERROR line and not tried again until its
 * manifest changes; whatever was serving keeps serving. With a `latest` champion, the repository is
 * polled and a new version goes live the same way (each instance polls for itself).
 */
import type { KeyObject } from 'node:crypto';
import { StreamscoreError } from '../errors/index.js';
import { type ModelPool, versionId } from '../inference/index.js';
import { listVersions, type RepositoryVersion, readModelArtifact } from '../models/index.js';
import { type Logger, type ModelSwapped, modelSwapped } from '../telemetry/index.js';
import { type ResolvedDeployment, type ResolvedVersion, resolveDeployment } from './decisions.js';
import { compileSplit, type KeySplit } from './split.js';
import { type Challenger, type DeploymentState, refOf } from './state.js';

export interface PlannedChallenger extends Challenger {
  /** The pool id of its version. */
  id: string;
}

/** What one partition batch uses, frozen: read once per batch. */
export interface ServingPlan {
  readonly revision: number;
  /** The pool id of the champion's version. */
  readonly champion: string;
  readonly challengers: readonly PlannedChallenger[];
  /** Which keys each challenger scores or decides (built once per plan, not per batch). */
  readonly split: KeySplit<PlannedChallenger>;
}

export interface DeploymentStatus {
  state: DeploymentState;
  champion: string;
  /** What a rollback returns to, loaded. */
  standby: string | undefined;
  challengers: readonly PlannedChallenger[];
  /** Versions the state names that could not be loaded, with why. */
  unavailable: { id: string; reason: string }[];
}

export interface DeploymentController {
  /** The plan for the batch about to start. */
  plan(): ServingPlan;
  readonly state: DeploymentState;
  /** The state resolved against the repository as it is now (what a decision is computed from). */
  resolve(): Promise<ResolvedDeployment>;
  /** Serves `state`: resolves once its versions are loaded and the plan has switched (or was refused). */
  apply(state: DeploymentState): Promise<void>;
  status(): DeploymentStatus;
  stop(): void;
}

export interface ControllerOptions {
  repository: string;
  /** How often a `latest` champion looks for new versions; 0 never does. */
  pollIntervalMs: number;
  /** model.publicKeyFile, read: every version must carry a valid manifest signature. Absent: not checked. */
  publicKey?: KeyObject | undefined;
}

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Starts serving `initial`; rejects (the service cannot start) when its champion cannot be loaded.
 */
export async function startDeploymentController(
  pool: ModelPool,
  initial: DeploymentState,
  options: ControllerOptions,
  logger: Logger,
): Promise<DeploymentController> {
  let state = initial;
  let plan: ServingPlan | undefined;
  let standby: string | undefined;
  // Versions refused until their manifest changes: id -> the manifest's change time when it failed.
  const failed = new Map<string, { stamp: string; reason: string }>();
  // One reconciliation at a time, in the order states arrived.
  let reconciling: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const versionsOf = async (current: DeploymentState) => {
    const models = new Set([
      current.champion.model,
      ...(current.previous ? [current.previous.model] : []),
      ...current.challengers.map((challenger) => challenger.model),
    ]);
    const versions = new Map<string, RepositoryVersion[]>();
    for (const model of models)
      versions.set(model, await listVersions(options.repository, model).catch(() => []));
    return (model: string) => versions.get(model) ?? [];
  };

  // A version that failed verification with its present manifest is no choice for `latest` or a rollback.
  const unusable = (model: string, version: RepositoryVersion) =>
    failed.get(versionId(model, version.version))?.stamp === version.manifestStamp;
  const resolve = async (current: DeploymentState) =>
    resolveDeployment(current, await versionsOf(current), unusable);

  /** Loads a version unless it is loaded or failed before with this manifest; true when it is loaded. */
  const ensureLoaded = async (version: ResolvedVersion, role: string): Promise<boolean> => {
    const id = versionId(version.model, version.version);
    if (pool.isLoaded(id)) return true;
    if (failed.get(id)?.stamp === version.manifestStamp) return false;
    try {
      const artifact = await readModelArtifact(version.directory, { publicKey: options.publicKey });
      const { zeroedWeights } = await pool.load(artifact);
      if (zeroedWeights > 0)
        logger.info(
          { model: version.model, version: version.version, zeroedWeights },
          'subnormal model weights set to zero: they change no score and are slow to multiply on many CPUs',
        );
      failed.delete(id);
      return true;
    } catch (error) {
      failed.set(id, { stamp: version.manifestStamp, reason: reasonOf(error) });
      const code = error instanceof StreamscoreError ? error.code : 'MODEL_MANIFEST_INVALID';
      logger.error(
        { model: version.model, version: version.version, role, code, reason: reasonOf(error) },
        'model version refused; the serving version keeps serving',
      );
      return false;
    }
  };

  const announce = (from: string | undefined, to: string, reason: ModelSwapped['reason']) => {
    logger.info(
      { deployment: state.deployment, from, to, revision: state.revision, reason },
      'champion switched',
    );
    if (modelSwapped.hasSubscribers) {
      modelSwapped.publish({ model: state.deployment, from, to, reason } satisfies ModelSwapped);
    }
  };

  const reconcile = async (current: DeploymentState, reason: ModelSwapped['reason']) => {
    const resolved = await resolve(current);
    const championId = versionId(resolved.champion.model, resolved.champion.version);
    const championReady = await ensureLoaded(resolved.champion, 'champion');
    if (!championReady && !plan) {
      throw new StreamscoreError(
        'MODEL_MANIFEST_INVALID',
        `${refOf(resolved.champion)} cannot serve: ${failed.get(championId)?.reason ?? 'not loaded'}`,
      );
    }
    const standbyReady = resolved.standby && (await ensureLoaded(resolved.standby, 'standby'));
    const challengers: PlannedChallenger[] = [];
    for (const challenger of resolved.challengers) {
      if (await ensureLoaded(challenger, challenger.variant)) {
        const { variant, mode, model, version, share } = challenger;
        challengers.push({ variant, mode, model, version, share, id: versionId(model, version) });
      }
    }
    const previous = plan;
    const serving = championReady ? championId : previous!.champion;
    const unchanged =
      previous?.revision === current.revision &&
      previous.champion === serving &&
      previous.challengers.map(({ id, share }) => `${id}:${share}`).join() ===
        challengers.map(({ id, share }) => `${id}:${share}`).join();
    // The same plan object while nothing changes: a batch's plan is a value, compared by identity if need be.
    if (!unchanged) {
      plan = { revision: current.revision, champion: serving, challengers, split: compileSplit(challengers) };
    }
    standby =
      standbyReady && resolved.standby
        ? versionId(resolved.standby.model, resolved.standby.version)
        : undefined;
    if (serving !== previous?.champion) announce(previous?.champion, serving, reason);
    const kept = new Set([serving, standby, ...challengers.map((challenger) => challenger.id)]);
    const deciding = new Set([serving, ...challengers.filter((c) => c.mode === 'canary').map((c) => c.id)]);
    for (const { id } of pool.loaded()) {
      if (!kept.has(id)) pool.unload(id);
      else pool.setBackground(id, !deciding.has(id));
    }
  };

  const enqueue = (current: DeploymentState, reason: ModelSwapped['reason']) => {
    const work = reconciling.then(() => reconcile(current, reason));
    reconciling = work.catch((error: unknown) =>
      logger.error(
        { deployment: current.deployment, reason: reasonOf(error) },
        'deployment cannot be served as decided',
      ),
    );
    return work;
  };

  const poll = () => {
    if (stopped || options.pollIntervalMs === 0) return;
    timer = setTimeout(() => {
      const polled = state.champion.version === 'latest' ? enqueue(state, 'new-version') : Promise.resolve();
      polled.catch(() => undefined).finally(poll);
    }, options.pollIntervalMs);
    timer.unref();
  };

  await enqueue(state, 'initial');
  poll();

  return {
    plan: () => plan!,
    get state() {
      return state;
    },
    resolve: () => resolve(state),
    async apply(next) {
      state = next;
      await enqueue(next, 'decision').catch(() => undefined);
    },
    status: () => ({
      state,
      champion: plan!.champion,
      standby,
      challengers: plan!.challengers,
      unavailable: [...failed].map(([id, { reason }]) => ({ id, reason })),
    }),
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
