/**
 * Comparison records (schemas/comparison.avsc): for each event a challenger was given, what the champion
 * and the challenger made of it. Built from the batch's typed arrays straight into Avro bytes: one scratch
 * record per encoder is rewritten for every row and encoded at once, so the only objects a row leaves
 * behind are its bytes and the OutputRecord carrying them.
 */
import { type AvroCodec, createAvroCodec, loadAvroSchema, type RecordEncoder } from '../codec/index.js';
import { packagePath } from '../config/index.js';
import type { InputRecord, OutputRecord } from '../kafka/index.js';
import type { ModelManifest } from '../models/index.js';
import type { ScoredEvent } from './predictions.js';

/** Per-row status codes in the typed arrays; each is the index of its symbol in the schema's enum. */
export const ScoringStatus = { OK: 0, TIMEOUT: 1, ERROR: 2, SHED: 3 } as const;
export type ScoringStatusCode = (typeof ScoringStatus)[keyof typeof ScoringStatus];
export const SCORING_STATUS_SYMBOLS = ['OK', 'TIMEOUT', 'ERROR', 'SHED'] as const;
export type ScoringStatusSymbol = (typeof SCORING_STATUS_SYMBOLS)[number];

export type FlipSymbol = 'NONE' | 'CHALLENGER_ONLY_POSITIVE' | 'CHAMPION_ONLY_POSITIVE';

/** One model's answer, as the schema's ModelOutcome. */
export interface ModelOutcome {
  variant: string;
  model_name: string;
  model_version: string;
  model_sha256: string;
  status: ScoringStatusSymbol;
  score: number | null;
  label: string | null;
  threshold: number;
  latency_ms: number | null;
}

/** A comparison record as avsc encodes and decodes it (timestamps as epoch milliseconds). */
export interface Comparison {
  event_id: string;
  source_topic: string;
  source_partition: number;
  source_offset: number;
  event_time: number;
  compared_time: number;
  champion: ModelOutcome;
  challenger: ModelOutcome;
  agree: boolean | null;
  flip: FlipSymbol;
  score_diff: number | null;
}

/** What a comparison reads of a manifest; a whole ModelManifest will do. */
export type ComparedManifest = Pick<ModelManifest, 'name' | 'version' | 'sha256' | 'threshold' | 'labels'>;

export interface ComparedModel {
  variant: string;
  manifest: ComparedManifest;
}

/** The champion's side of a partition batch. */
export interface ChampionScores extends ComparedModel {
  /** By batch row. */
  scores: Float32Array;
  /** ScoringStatus by batch row; absent when it scored every row. */
  statuses?: Uint8Array | undefined;
  /** Inference time of the champion's call for the batch, in milliseconds. */
  latencyMs: number;
}

/** One challenger's side of a partition batch: the rows it was given and what became of them. */
export interface ChallengerScores extends ComparedModel {
  /** Batch rows it was given (its share of keys), by position. */
  rows: ArrayLike<number>;
  /** Positions in use in `rows`, `scores` and `statuses` (the arrays may be longer). */
  count: number;
  /** By position; read only where the status is OK. */
  scores: Float32Array;
  /** ScoringStatus by position. */
  statuses: Uint8Array;
  /** Inference time of its call for the batch, in milliseconds; undefined when no row was scored. */
  latencyMs: number | undefined;
}

/** Where a batch came from and its events, by batch row (as the pipeline holds them). */
export interface ComparisonSource {
  topic: string;
  partition: number;
  /** The consumed records: each comparison takes its key, and its offset as source_offset. */
  records: readonly InputRecord[];
  /** The decoded events: event_id and event_time. */
  events: readonly ScoredEvent[];
  /** Wall-clock epoch milliseconds of the comparison. */
  comparedTime: number;
}

export interface ComparisonEncoder {
  /** Appends one comparison per position of `challenger` to `out`, keyed like the row's input record. */
  encodeComparisons(
    out: OutputRecord[],
    source: ComparisonSource,
    champion: ChampionScores,
    challenger: ChallengerScores,
  ): void;
}

export const COMPARISON_SCHEMA_PATH = packagePath('schemas/comparison.avsc');

export function loadComparisonCodec(schemaPath = COMPARISON_SCHEMA_PATH): AvroCodec<Comparison> {
  return createAvroCodec<Comparison>(loadAvroSchema(schemaPath));
}

function emptyOutcome(): ModelOutcome {
  return {
    variant: '',
    model_name: '',
    model_version: '',
    model_sha256: '',
    status: 'OK',
    score: null,
    label: null,
    threshold: 0,
    latency_ms: null,
  };
}

/** Writes one model's answer into `outcome`; returns whether it decided positive (false unless OK). */
function writeOutcome(
  outcome: ModelOutcome,
  model: ComparedModel,
  status: number,
  score: number,
  latencyMs: number | undefined,
): boolean {
  const { manifest } = model;
  outcome.variant = model.variant;
  outcome.model_name = manifest.name;
  outcome.model_version = manifest.version;
  outcome.model_sha256 = manifest.sha256;
  outcome.threshold = manifest.threshold;
  // An unknown code reads ERROR, as the schema's enum default does.
  outcome.status = SCORING_STATUS_SYMBOLS[status] ?? 'ERROR';
  if (status !== ScoringStatus.OK) {
    outcome.score = null;
    outcome.label = null;
    outcome.latency_ms = null;
    return false;
  }
  const positive = score >= manifest.threshold;
  outcome.score = score;
  outcome.label = positive ? manifest.labels.positive : manifest.labels.negative;
  outcome.latency_ms = latencyMs ?? null;
  return positive;
}

export function createComparisonEncoder(
  codec: RecordEncoder<Comparison> = loadComparisonCodec(),
): ComparisonEncoder {
  // Rewritten for every row and encoded at once: avsc copies it into the row's bytes.
  const scratch: Comparison = {
    event_id: '',
    source_topic: '',
    source_partition: 0,
    source_offset: 0,
    event_time: 0,
    compared_time: 0,
    champion: emptyOutcome(),
    challenger: emptyOutcome(),
    agree: null,
    flip: 'NONE',
    score_diff: null,
  };

  return {
    encodeComparisons(out, source, champion, challenger) {
      scratch.source_topic = source.topic;
      scratch.source_partition = source.partition;
      scratch.compared_time = source.comparedTime;
      for (let position = 0; position < challenger.count; position++) {
        const row = challenger.rows[position]!;
        const record = source.records[row]!;
        const event = source.events[row]!;
        scratch.event_id = event.event_id;
        scratch.event_time = event.event_time;
        scratch.source_offset = Number(record.offset);

        const championStatus = champion.statuses?.[row] ?? ScoringStatus.OK;
        const championScore = champion.scores[row]!;
        const challengerStatus = challenger.statuses[position]!;
        const challengerScore = challenger.scores[position]!;
        const championPositive = writeOutcome(
          scratch.champion,
          champion,
          championStatus,
          championScore,
          champion.latencyMs,
        );
        const challengerPositive = writeOutcome(
          scratch.challenger,
          challenger,
          challengerStatus,
          challengerScore,
          challenger.latencyMs,
        );
        if (championStatus === ScoringStatus.OK && challengerStatus === ScoringStatus.OK) {
          scratch.agree = championPositive === challengerPositive;
          scratch.flip =
            championPositive === challengerPositive
              ? 'NONE'
              : challengerPositive
                ? 'CHALLENGER_ONLY_POSITIVE'
                : 'CHAMPION_ONLY_POSITIVE';
          scratch.score_diff = challengerScore - championScore;
        } else {
          scratch.agree = null;
          scratch.flip = 'NONE';
          scratch.score_diff = null;
        }
        out.push({ key: record.key, value: codec.encode(scratch) });
      }
    },
  };
}
