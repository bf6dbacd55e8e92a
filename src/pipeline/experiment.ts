/**
 * What a batch's challengers add to its output: the canaries' decisions for their rows, and one comparison
 * record per row a challenger was given (a canary's rows are compared with the champion too: it scored
 * them). Announced to observers (running figures, canary rules) once per batch, in typed arrays.
 */
import type { InputRecord, OutputRecord } from '../kafka/index.js';
import {
  type ChampionScores,
  type ComparisonEncoder,
  type ScoredEvent,
  ScoringStatus,
} from '../routing/index.js';
import { type ChallengersScored, challengersScored } from '../telemetry/index.js';
import type { ScoredChallenger } from './challengers.js';

/** For each batch row, the canary deciding it and where its score is; `NO_CANARY` when the champion decides. */
export interface CanaryDecisions {
  canaryOf: Int32Array;
  positionOf: Uint32Array;
}

export const NO_CANARY = -1;

/** Which rows canaries decide: those they scored. A row a canary failed on is left to the champion. */
export function canaryDecisions(rows: number, canaries: readonly ScoredChallenger[]): CanaryDecisions {
  const canaryOf = new Int32Array(rows).fill(NO_CANARY);
  const positionOf = new Uint32Array(rows);
  for (const [index, canary] of canaries.entries()) {
    for (let position = 0; position < canary.count; position++) {
      if (canary.statuses[position] !== ScoringStatus.OK) continue;
      const row = canary.rows[position]!;
      canaryOf[row] = index;
      positionOf[row] = position;
    }
  }
  return { canaryOf, positionOf };
}

export interface ComparisonBatch {
  topic: string;
  partition: number;
  accepted: readonly InputRecord[];
  events: readonly ScoredEvent[];
  champion: ChampionScores;
  challengers: readonly ScoredChallenger[];
}

/** Appends the batch's comparison records to `out` and tells the observers what the challengers did. */
export function compareChallengers(
  encoder: ComparisonEncoder,
  batch: ComparisonBatch,
  out: OutputRecord[],
): void {
  const source = {
    topic: batch.topic,
    partition: batch.partition,
    records: batch.accepted,
    events: batch.events,
    comparedTime: Date.now(),
  };
  for (const challenger of batch.challengers)
    encoder.encodeComparisons(out, source, batch.champion, challenger);
  if (challengersScored.hasSubscribers) {
    challengersScored.publish({
      topic: batch.topic,
      at: source.comparedTime,
      champion: batch.champion,
      challengers: batch.challengers.map((challenger) => ({
        ...challenger,
        mode: challenger.challenger.mode,
      })),
    } satisfies ChallengersScored);
  }
}
