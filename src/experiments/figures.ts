/**
 * Running figures per champion/challenger pair, since start and over a sliding window. The pipeline feeds
 * a batch's typed arrays once per challenger (O(rows), nothing allocated per row); the report command
 * feeds comparison records read back from the topic, through the same counting, so both say the same.
 *
 * The window is a ring of WINDOW_SLICES time slices of windowMs / WINDOW_SLICES each: a comparison leaves
 * the window between 0.9 and 1.0 windowMs after its time. Comparisons may arrive out of order (partitions
 * interleave); one older than the window's oldest slice counts only since start.
 */
import {
  type ChallengerScores,
  type ChampionScores,
  type ComparedModel,
  type Comparison,
  type ModelOutcome,
  SCORING_STATUS_SYMBOLS,
  ScoringStatus,
  type ScoringStatusSymbol,
} from '../routing/index.js';
import { type Figures, Tally } from './tally.js';

const WINDOW_SLICES = 10;

export interface PairMember {
  variant: string;
  model: string;
  version: string;
}

export interface PairSummary {
  champion: PairMember;
  challenger: PairMember;
  total: Figures;
  window: Figures;
}

export interface ExperimentsSummary {
  windowMs: number;
  /** Epoch milliseconds the window ends at. */
  at: number;
  pairs: PairSummary[];
}

export interface ExperimentFigures {
  /** One challenger's rows of one partition batch beside the champion's, compared at `atMs`. */
  addBatch(champion: ChampionScores, challenger: ChallengerScores, atMs: number): void;
  /** One comparison record, at its compared_time. */
  addComparison(comparison: Comparison): void;
  /** Every pair's figures, the window ending at `nowMs`; pairs in the order first seen. */
  summary(nowMs: number): ExperimentsSummary;
}

class PairFigures {
  /** Everything since start (or read). */
  readonly total: Tally;
  private readonly slices: Tally[] = [];
  /** Which slice number (time / sliceMs) each ring position holds; -1 while unused. */
  private readonly sliceNumbers = new Float64Array(WINDOW_SLICES).fill(-1);

  constructor(
    readonly champion: PairMember,
    readonly challenger: PairMember,
    private readonly championThreshold: number,
    private readonly challengerThreshold: number,
    private readonly sliceMs: number,
  ) {
    this.total = this.newTally();
    for (let index = 0; index < WINDOW_SLICES; index++) this.slices.push(this.newTally());
  }

  /** The window slice a comparison at `atMs` counts in; undefined when it is older than the window. */
  sliceAt(atMs: number): Tally | undefined {
    const sliceNumber = Math.floor(atMs / this.sliceMs);
    const position = sliceNumber % WINDOW_SLICES;
    const held = this.sliceNumbers[position]!;
    if (held > sliceNumber) return undefined;
    const slice = this.slices[position]!;
    if (held < sliceNumber) {
      slice.reset();
      this.sliceNumbers[position] = sliceNumber;
    }
    return slice;
  }

  summary(nowMs: number): PairSummary {
    const newest = Math.floor(nowMs / this.sliceMs);
    const window = this.newTally();
    for (let position = 0; position < WINDOW_SLICES; position++) {
      const sliceNumber = this.sliceNumbers[position]!;
      if (sliceNumber > newest - WINDOW_SLICES && sliceNumber <= newest) window.merge(this.slices[position]!);
    }
    return {
      champion: this.champion,
      challenger: this.challenger,
      total: this.total.figures(),
      window: window.figures(),
    };
  }

  private newTally(): Tally {
    return new Tally(this.championThreshold, this.challengerThreshold);
  }
}

const memberOf = ({ variant, manifest }: ComparedModel): PairMember => ({
  variant,
  model: manifest.name,
  version: manifest.version,
});
const outcomeMember = (outcome: ModelOutcome): PairMember => ({
  variant: outcome.variant,
  model: outcome.model_name,
  version: outcome.model_version,
});
const pairKey = (champion: PairMember, challenger: PairMember) =>
  [
    champion.variant,
    champion.model,
    champion.version,
    challenger.variant,
    challenger.model,
    challenger.version,
  ].join('\u0000');
/** A symbol this build does not know reads ERROR, as the schema's enum default does. */
function statusCode(symbol: ScoringStatusSymbol): number {
  const code = SCORING_STATUS_SYMBOLS.indexOf(symbol);
  return code === -1 ? ScoringStatus.ERROR : code;
}

export function createExperimentFigures(options: { windowMs: number }): ExperimentFigures {
  const sliceMs = options.windowMs / WINDOW_SLICES;
  const pairs = new Map<string, PairFigures>();

  const pairFor = (
    champion: PairMember,
    challenger: PairMember,
    championThreshold: number,
    challengerThreshold: number,
  ): PairFigures => {
    const key = pairKey(champion, challenger);
    let pair = pairs.get(key);
    if (!pair) {
      pair = new PairFigures(champion, challenger, championThreshold, challengerThreshold, sliceMs);
      pairs.set(key, pair);
    }
    return pair;
  };

  return {
    addBatch(champion, challenger, atMs) {
      const pair = pairFor(
        memberOf(champion),
        memberOf(challenger),
        champion.manifest.threshold,
        challenger.manifest.threshold,
      );
      const { total } = pair;
      const slice = pair.sliceAt(atMs);
      for (let position = 0; position < challenger.count; position++) {
        const row = challenger.rows[position]!;
        const championStatus = champion.statuses?.[row] ?? ScoringStatus.OK;
        const championScore = champion.scores[row]!;
        const challengerStatus = challenger.statuses[position]!;
        const challengerScore = challenger.scores[position]!;
        total.add(championStatus, championScore, challengerStatus, challengerScore, challenger.latencyMs);
        slice?.add(championStatus, championScore, challengerStatus, challengerScore, challenger.latencyMs);
      }
    },

    addComparison(comparison) {
      const { champion, challenger, compared_time: atMs } = comparison;
      const pair = pairFor(
        outcomeMember(champion),
        outcomeMember(challenger),
        champion.threshold,
        challenger.threshold,
      );
      const slice = pair.sliceAt(atMs);
      const championStatus = statusCode(champion.status);
      const challengerStatus = statusCode(challenger.status);
      const championScore = champion.score ?? Number.NaN;
      const challengerScore = challenger.score ?? Number.NaN;
      const latencyMs = challenger.latency_ms ?? undefined;
      pair.total.add(championStatus, championScore, challengerStatus, challengerScore, latencyMs);
      slice?.add(championStatus, championScore, challengerStatus, challengerScore, latencyMs);
    },

    summary(nowMs) {
      return {
        windowMs: options.windowMs,
        at: nowMs,
        pairs: [...pairs.values()].map((pair) => pair.summary(nowMs)),
      };
    },
  };
}
