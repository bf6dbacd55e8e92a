/**
 * The challengers of one partition batch. Each scores the rows of its share of keys with its own version's
 * features: a canary at the same time as the champion, a shadow once the champion is done, in the
 * background (its inference calls wait for an idle worker, never ahead of a decision's). A shadow never decides and never hurts the champion:
 * its failure marks its rows ERROR, a shadow still running `shadowDeadlineMs` after the champion finished
 * marks them TIMEOUT (its inference carries on and its lease is returned when it ends), and under load
 * (more queued rows than `shedQueuedRows`) its rows are SHED without inference. A canary decides its rows:
 * it is awaited, and a row it failed on is decided by the champion. Either way a failing call is retried
 * row by row (as the champion's is), so one failing record costs only its own row; none of this ever
 * dead-letters a record.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { PlannedChallenger, ServingPlan } from '../deployments/index.js';
import { bucketsInto, rowsInSlice } from '../deployments/index.js';
import { isBadRecord } from '../errors/index.js';
import type { DecodedRecord, FeatureRows } from '../features/index.js';
import { type ModelPool, type ServingModel, scoreIsolatingFailures } from '../inference/index.js';
import type { InputRecord } from '../kafka/index.js';
import type { ModelManifest } from '../models/index.js';
import { type ChallengerScores, ScoringStatus } from '../routing/index.js';

export interface ChallengerOptions {
  pool: ModelPool;
  shadowDeadlineMs: number;
  shedQueuedRows: number;
}

export interface ScoredChallenger extends ChallengerScores {
  challenger: PlannedChallenger;
  /** The whole manifest: alerts read its explanation and thresholds. */
  manifest: ModelManifest;
}

export interface ChallengerRun {
  /**
   * Called once the champion has scored: resolves with every challenger's rows once canaries are done and
   * shadows are done or `shadowDeadlineMs` late.
   */
  settle(): Promise<ScoredChallenger[]>;
}

/** What a challenger's inference came to: scores by position with the positions it failed on, or a failure. */
type Outcome = { scores: Float32Array; failed: readonly number[]; latencyMs: number } | 'failed';

interface Started {
  result: ScoredChallenger;
  outcome: Promise<Outcome>;
}

/** The champion's feature rows of the batch, with the manifest that mapped them. */
export interface ChampionRows {
  manifest: ModelManifest;
  rows: FeatureRows;
}

// Whether a challenger maps features as the champion does (a new version of the same model, usually):
// compared once per pair of manifests, not per batch.
const sameMappingAs = new WeakMap<ModelManifest, { champion: ModelManifest; same: boolean }>();

function mapsLike(challenger: ModelManifest, champion: ModelManifest): boolean {
  const known = sameMappingAs.get(challenger);
  if (known?.champion === champion) return known.same;
  const same =
    challenger.inputs[0]!.type === champion.inputs[0]!.type &&
    JSON.stringify(challenger.features) === JSON.stringify(champion.features);
  sameMappingAs.set(challenger, { champion, same });
  return same;
}

/**
 * The rows' features: copied from the champion's rows when the mapping is the same, else computed with the
 * challenger's own mapping, where a row it cannot map is ERROR, not a dead letter.
 */
function featuresOf(
  model: ServingModel,
  records: readonly DecodedRecord[],
  champion: ChampionRows,
  result: ScoredChallenger,
) {
  const features = model.features.allocateRows(result.count);
  if (mapsLike(model.manifest, champion.manifest)) {
    const width = model.features.width;
    for (let position = 0; position < result.count; position++) {
      const from = result.rows[position]! * width;
      for (let column = 0; column < width; column++)
        features[position * width + column] = champion.rows[from + column]!;
    }
    return features;
  }
  for (let position = 0; position < result.count; position++) {
    try {
      model.features.extractInto(records[result.rows[position]!]!, features, position);
    } catch (error) {
      if (!isBadRecord(error)) throw error;
      result.statuses[position] = ScoringStatus.ERROR;
    }
  }
  return features;
}

/**
 * Scores the challenger's rows through the shared batcher and cache; when a call fails, its rows are tried
 * alone so one failing record leaves the others scored (its own failures never concern the champion).
 */
async function infer(
  model: ServingModel,
  records: readonly DecodedRecord[],
  champion: ChampionRows,
  result: ScoredChallenger,
): Promise<Outcome> {
  const features = featuresOf(model, records, champion, result);
  const startedAt = performance.now();
  try {
    const { scores, failedRows } = await scoreIsolatingFailures(model, features, result.count, {});
    return { scores, failed: failedRows, latencyMs: performance.now() - startedAt };
  } catch {
    return 'failed';
  }
}

/** The lease is returned when inference ends, even when the batch has stopped waiting for it. */
function inferReleasing(
  model: ServingModel,
  records: readonly DecodedRecord[],
  champion: ChampionRows,
  result: ScoredChallenger,
) {
  const outcome = infer(model, records, champion, result);
  void outcome.finally(() => model.release());
  return outcome;
}

function apply(result: ScoredChallenger, outcome: Outcome): void {
  if (outcome === 'failed') {
    result.statuses.fill(ScoringStatus.ERROR);
    return;
  }
  result.scores.set(outcome.scores);
  for (const position of outcome.failed) result.statuses[position] = ScoringStatus.ERROR;
  result.latencyMs = outcome.latencyMs;
}

/** Starts every challenger of `plan` on the batch's accepted records (the champion scores them too). */
export function runChallengers(
  plan: ServingPlan,
  accepted: readonly InputRecord[],
  records: readonly DecodedRecord[],
  champion: ChampionRows,
  options: ChallengerOptions,
): ChallengerRun {
  const count = accepted.length;
  const buckets = new Float64Array(count);
  bucketsInto(accepted, buckets);
  const shed = options.pool.pendingRows > options.shedQueuedRows;
  const results: ScoredChallenger[] = [];
  const started: Started[] = [];
  const shadows: { model: ServingModel; result: ScoredChallenger }[] = [];
  for (const slice of [...plan.split.shadows, ...plan.split.canaries]) {
    const rows = new Uint32Array(count);
    const inSlice = rowsInSlice(slice, buckets, count, rows);
    if (inSlice === 0) continue;
    const { challenger } = slice;
    const model = options.pool.acquire(challenger.id);
    const result: ScoredChallenger = {
      challenger,
      variant: challenger.variant,
      manifest: model.manifest,
      rows,
      count: inSlice,
      scores: new Float32Array(inSlice),
      statuses: new Uint8Array(inSlice),
      latencyMs: undefined,
    };
    results.push(result);
    if (challenger.mode === 'shadow' && shed) {
      model.release();
      result.statuses.fill(ScoringStatus.SHED);
      continue;
    }
    if (challenger.mode === 'shadow') shadows.push({ model, result });
    else started.push({ result, outcome: inferReleasing(model, records, champion, result) });
  }

  return {
    async settle() {
      // Shadows start once the champion is done, so no champion call of this batch waits behind theirs.
      for (const { model, result } of shadows)
        started.push({ result, outcome: inferReleasing(model, records, champion, result) });
      const deadline = new AbortController();
      const late = sleep(options.shadowDeadlineMs, 'late' as const, { signal: deadline.signal }).catch(
        () => 'cancelled' as const,
      );
      await Promise.all(
        started.map(async ({ result, outcome }) => {
          const settled =
            result.challenger.mode === 'canary' ? await outcome : await Promise.race([outcome, late]);
          if (settled === 'late' || settled === 'cancelled') result.statuses.fill(ScoringStatus.TIMEOUT);
          else apply(result, settled);
        }),
      );
      deadline.abort();
      return results;
    },
  };
}
