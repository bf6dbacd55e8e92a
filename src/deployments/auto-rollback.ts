/**
 * Automatic rollback of a failing canary. Each instance judges the canary on the rows it decides itself
 * (its own share of the traffic, over `experiments.windowMs`, once `rollbackMinSamples` are in) and, when a
 * limit is broken, publishes the decision to withdraw it, with the figures that broke it. Every instance
 * applies it; if several trip at once, the decisions say the same thing. Fed from the batches' challenger
 * figures (a diagnostics channel), so the scoring path does no more than publish them.
 */
import { ScoringStatus } from '../routing/index.js';
import { type ChallengersScored, challengersScored, type Logger, subscribe } from '../telemetry/index.js';
import type { Deployments } from './channel.js';
import { withdraw } from './decisions.js';
import { type CanaryRules, createCanaryRules, type RollbackLimits } from './rules.js';

// A verdict costs a pass over the window; once a second per canary is plenty.
const JUDGE_EVERY_MS = 1_000;

export interface AutoRollback {
  close(): void;
}

type ChallengerBatch = ChallengersScored['challengers'][number];

function canaryBatch(challenger: ChallengerBatch) {
  let scored = 0;
  let errors = 0;
  let timeouts = 0;
  let positives = 0;
  const { threshold } = challenger.manifest;
  for (let position = 0; position < challenger.count; position++) {
    const status = challenger.statuses[position];
    if (status === ScoringStatus.OK) {
      scored += 1;
      if (challenger.scores[position]! >= threshold) positives += 1;
    } else if (status === ScoringStatus.TIMEOUT) timeouts += 1;
    else errors += 1;
  }
  const latenciesMs = challenger.latencyMs === undefined ? [] : [challenger.latencyMs];
  return { scored, errors, timeouts, positives, latenciesMs };
}

export function watchCanaries(
  deployments: Deployments,
  limits: RollbackLimits,
  decidedBy: string,
  logger: Logger,
): AutoRollback {
  const rules = new Map<string, { rules: CanaryRules; judgedAt: number; deciding: boolean }>();

  const rollBack = async (variant: string, reason: string, figures: Record<string, number>) => {
    logger.warn({ variant, reason, figures }, 'canary rolled back automatically');
    await deployments.decide((current) =>
      withdraw(current, variant, { by: decidedBy, reason, figures }, 'auto-rollback'),
    );
  };

  const unsubscribe = subscribe<ChallengersScored>(challengersScored, (batch) => {
    for (const challenger of batch.challengers) {
      if (challenger.mode !== 'canary') continue;
      let entry = rules.get(challenger.variant);
      if (!entry) {
        entry = { rules: createCanaryRules(limits), judgedAt: 0, deciding: false };
        rules.set(challenger.variant, entry);
      }
      entry.rules.record(batch.at, canaryBatch(challenger));
      if (entry.deciding || batch.at - entry.judgedAt < JUDGE_EVERY_MS) continue;
      entry.judgedAt = batch.at;
      const verdict = entry.rules.verdict(batch.at);
      if (verdict.status !== 'rollback') continue;
      // Only while the canary is still in the state: another instance may have withdrawn it already.
      if (!deployments.controller.state.challengers.some((c) => c.variant === challenger.variant)) continue;
      entry.deciding = true;
      const done = entry;
      rollBack(challenger.variant, verdict.reason, verdict.figures)
        .catch((error: unknown) =>
          logger.warn({ variant: challenger.variant, err: error }, 'automatic rollback not published'),
        )
        .finally(() => {
          rules.delete(challenger.variant);
          done.deciding = false;
        });
    }
  });

  return { close: unsubscribe };
}
