/**
 * Comparison records (schemas/comparison.avsc): for each event a challenger was given, what the champion
 * and the challenger made of it. Built from the batch's typed arrays straight into Avro bytes, so the only
 * objects a row leaves behind are its bytes and the OutputRecord carrying them.
 */
import {
  type AvroCodec,
  createAvroCodec,
  DatumWriter,
  DOUBLE_BYTES,
  encodedDouble,
  encodedLong,
  encodedString,
  loadAvroSchema,
  MAX_LONG_BYTES,
  maxStringBytes,
  type PrefixedEncoder,
} from '../codec/index.js';
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

// Avro's branch indexes of the schema's ["null", X] unions (zig-zag: 0 and 1 are written 0x00 and 0x02).
const NULL = Buffer.from([0x00]);
const VALUE = Buffer.from([0x02]);

/**
 * One model's side of every comparison in a batch, encoded once: a ModelOutcome is its identity (variant,
 * model_name, model_version, model_sha256), status, score, label, threshold and latency_ms, and all but
 * the score are the same for every row of a batch with the same status and decision.
 */
interface OutcomeBytes {
  /** The whole outcome of a row not scored, by status code. */
  unscored: Buffer[];
  /** An OK outcome up to its score, then after it: label, threshold, latency_ms, by decision. */
  scoredHead: Buffer;
  positiveTail: Buffer;
  negativeTail: Buffer;
  threshold: number;
  /** The most bytes an outcome takes. */
  maxBytes: number;
}

function outcomeBytes(model: ComparedModel, latencyMs: number | undefined): OutcomeBytes {
  const { manifest } = model;
  const identity = Buffer.concat(
    [model.variant, manifest.name, manifest.version, manifest.sha256].map(encodedString),
  );
  const threshold = encodedDouble(manifest.threshold);
  const latency = latencyMs === undefined ? NULL : Buffer.concat([VALUE, encodedDouble(latencyMs)]);
  const tail = (label: string) => Buffer.concat([VALUE, encodedString(label), threshold, latency]);
  const unscored = SCORING_STATUS_SYMBOLS.map((_, status) =>
    Buffer.concat([identity, encodedLong(status), NULL, NULL, threshold, NULL]),
  );
  const scoredHead = Buffer.concat([identity, encodedLong(ScoringStatus.OK), VALUE]);
  const positiveTail = tail(manifest.labels.positive);
  const negativeTail = tail(manifest.labels.negative);
  return {
    unscored,
    scoredHead,
    positiveTail,
    negativeTail,
    threshold: manifest.threshold,
    maxBytes: Math.max(
      ...unscored.map((bytes) => bytes.length),
      scoredHead.length + DOUBLE_BYTES + Math.max(positiveTail.length, negativeTail.length),
    ),
  };
}

/**
 * Writes one model's answer; returns whether it decided positive (false unless OK). An unknown status code
 * is written as ERROR, as the schema's enum default reads it.
 */
function writeOutcome(writer: DatumWriter, outcome: OutcomeBytes, status: number, score: number): boolean {
  if (status !== ScoringStatus.OK) {
    writer.raw(outcome.unscored[status] ?? outcome.unscored[ScoringStatus.ERROR]!);
    return false;
  }
  const positive = score >= outcome.threshold;
  writer.raw(outcome.scoredHead);
  writer.double(score);
  writer.raw(positive ? outcome.positiveTail : outcome.negativeTail);
  return positive;
}

// agree, flip and score_diff's branch: when both scored, by decision (score_diff's value follows) ...
const AGREE = Buffer.from([0x02, 0x01, 0x00, 0x02]); // agree true, flip NONE
const CHALLENGER_ONLY_POSITIVE = Buffer.from([0x02, 0x00, 0x02, 0x02]); // agree false, flip 1
const CHAMPION_ONLY_POSITIVE = Buffer.from([0x02, 0x00, 0x04, 0x02]); // agree false, flip 2
// ... and when either did not: agree null, flip NONE, score_diff null.
const NOT_COMPARABLE = Buffer.from([0x00, 0x00, 0x00]);
const DERIVED_BYTES = AGREE.length + DOUBLE_BYTES;

/**
 * Writes comparisons field by field in schemas/comparison.avsc's order, framed by `codec`'s prefix: the
 * bytes `codec.encode` would give (test/routing/comparisons.test.ts holds them to avsc's, byte for byte).
 * Each batch encodes its models' identities and its topic once; avsc re-encoded every string of every
 * record, two 64-character sha256 among them, which made writing comparisons a large part of a shadowed
 * drain.
 */
export function createComparisonEncoder(
  codec: PrefixedEncoder<Comparison> = loadComparisonCodec(),
): ComparisonEncoder {
  const writer = new DatumWriter(codec.prefix);

  return {
    encodeComparisons(out, source, champion, challenger) {
      const topic = encodedString(source.topic);
      const championOutcome = outcomeBytes(champion, champion.latencyMs);
      const challengerOutcome = outcomeBytes(challenger, challenger.latencyMs);
      // All but event_id: topic, four longs, both outcomes, agree, flip and score_diff.
      const fixedBytes =
        topic.length +
        4 * MAX_LONG_BYTES +
        championOutcome.maxBytes +
        challengerOutcome.maxBytes +
        DERIVED_BYTES;
      for (let position = 0; position < challenger.count; position++) {
        const row = challenger.rows[position]!;
        const record = source.records[row]!;
        const event = source.events[row]!;
        writer.begin(fixedBytes + maxStringBytes(event.event_id));
        writer.string(event.event_id);
        writer.raw(topic);
        writer.long(source.partition);
        writer.long(Number(record.offset));
        writer.long(event.event_time);
        writer.long(source.comparedTime);

        const championStatus = champion.statuses?.[row] ?? ScoringStatus.OK;
        const championScore = champion.scores[row]!;
        const challengerStatus = challenger.statuses[position]!;
        const challengerScore = challenger.scores[position]!;
        const championPositive = writeOutcome(writer, championOutcome, championStatus, championScore);
        const challengerPositive = writeOutcome(writer, challengerOutcome, challengerStatus, challengerScore);
        if (championStatus === ScoringStatus.OK && challengerStatus === ScoringStatus.OK) {
          writer.raw(
            championPositive === challengerPositive
              ? AGREE
              : challengerPositive
                ? CHALLENGER_ONLY_POSITIVE
                : CHAMPION_ONLY_POSITIVE,
          );
          writer.double(challengerScore - championScore);
        } else {
          writer.raw(NOT_COMPARABLE);
        }
        out.push({ key: record.key, value: writer.end() });
      }
    },
  };
}
