/**
 * A model deployment's state: which version decides (the champion), which challengers run beside it, and
 * which versions were rolled back from. It is data: each decision (a promotion, a rollback, new
 * challengers) is a whole new state on the compacted control topic, keyed by the deployment's name, and
 * every instance applies the states in topic order, the last one in force. The last record is also all
 * that compaction keeps, so an instance started later reads the same state. A decision names the revision
 * it was made on, so whoever published it can tell that another decision landed in between.
 */

export type ChallengerMode = 'shadow' | 'canary';

/** A model version in the repository; a champion's version may be `latest` (the highest not refused). */
export interface ModelRef {
  model: string;
  version: string;
}

export interface Challenger extends ModelRef {
  /** The name its predictions and comparisons carry. */
  variant: string;
  /** shadow: scores beside the champion, never decides; canary: decides for its share of keys. */
  mode: ChallengerMode;
  /** Share of keys (by stable hash of the record key) it scores (shadow) or decides (canary), 0 to 1. */
  share: number;
}

export interface DeploymentState {
  /** The key on the control topic: the champion model's name in the configuration. */
  deployment: string;
  revision: number;
  /** The revision this state was decided on (0 for the state the configuration gives). */
  based_on: number;
  /** initial, promote, rollback, challengers, auto-rollback. */
  action: string;
  decided_at: number;
  /** Who decided: a user and host, the admin API, or an instance's automatic rollback. */
  decided_by: string;
  reason: string;
  champion: ModelRef;
  /** What a rollback returns to when set (the champion before the last promotion); else the next lower version. */
  previous: ModelRef | null;
  challengers: Challenger[];
  /** `model@version`s rolled back from: not served again until a decision names them. */
  refused: string[];
  /** The figures an automatic rollback was decided on. */
  figures: Record<string, number>;
}

export const refOf = ({ model, version }: ModelRef): string => `${model}@${version}`;

/** `<variant>:<shadow|canary>:<model>@<version>:<share>`, e.g. `mlp:shadow:fraud-mlp@1:0.5`. */
export const CHALLENGER_SPEC =
  /^([a-z0-9][a-z0-9._-]*):(shadow|canary):([a-z0-9][a-z0-9._-]*)@([^:@\s]+):(0|1|0?\.\d+|1\.0+)$/;

/** Parses `<variant>:<mode>:<model>@<version>:<share>`; undefined when the text is not one. */
export function parseChallenger(spec: string): Challenger | undefined {
  const match = CHALLENGER_SPEC.exec(spec);
  if (!match) return undefined;
  const [, variant, mode, model, version, share] = match;
  return {
    variant: variant!,
    mode: mode as ChallengerMode,
    model: model!,
    version: version!,
    share: Number(share),
  };
}
