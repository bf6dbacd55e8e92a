/**
 * The wire format per record, on one thread, with no Kafka and no network: decoding a sample event as plain
 * Avro, as the Confluent wire format whose writer schema is the reader schema (the decoder's 'same' path),
 * and as the wire format written with the reader schema plus one added field with a default (read through
 * an Avro resolver). The writer schemas come from an in-memory WriterSchemas and are fetched once, in
 * prepare(), as the service does per batch; what is timed is decode() alone. Encoding a prediction, plain
 * and in the wire format, is timed beside it, since the service's output is the other half of a format.
 * How the paths are timed against each other (in turns, on the CPU clock): lib/path-timing.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import avro from 'avsc';
import {
  createAvroCodec,
  createConfluentDecoder,
  createConfluentEncoder,
  type RecordDecoder,
  type RecordEncoder,
  type WriterSchemas,
} from '../../src/codec/index.js';
import { packagePath } from '../../src/config/index.js';
import { readManifest } from '../../src/models/index.js';
import { type Prediction, type ScoredEvent, toPrediction } from '../../src/routing/index.js';
import type { CardTransaction } from '../../src/sample/index.js';
import { createEventSource, eventCodec, predictionCodec } from './events.js';
import type { BenchOptions } from './options.js';
import {
  type PathTiming,
  pathGroup,
  pathTiming,
  perPath,
  type Ratios,
  ratiosTo,
  timeRound,
  warmUp,
} from './path-timing.js';
import { wireHeader } from './registry-wire.js';

/** Distinct events, each decoded many times a round, as layers/codec.ts does. */
const POOL = 10_000;

/** The field a newer producer added: a writer schema a reader without it resolves (and skips). */
export const ADDED_FIELD = {
  name: 'terminal_id',
  type: ['null', 'string'],
  default: null,
  doc: 'Added by a newer producer; the reader schema does not have it.',
} as const;

/** Ids the in-memory WriterSchemas hands out. */
const SAME_ID = 1;
const EVOLVED_ID = 2;
const PREDICTION_ID = 3;

/**
 * 'evolved' is no path of the service's: plain Avro of the evolved records with their own schema, no
 * resolution. Against 'resolved' it tells the resolver's own cost from the cost of the added field's bytes.
 */
export type DecodePath = 'plain' | 'same' | 'resolved' | 'evolved';
export const DECODE_PATHS: readonly DecodePath[] = ['plain', 'same', 'resolved', 'evolved'];
/** The paths with a goal: the service's wire-format reads. */
export type WirePath = 'same' | 'resolved';
export type EncodePath = 'plain' | 'wire';
const ENCODE_PATHS: readonly EncodePath[] = ['plain', 'wire'];

export const DECODE_PATH_LABELS: Record<DecodePath, string> = {
  plain: 'plain Avro',
  same: 'wire format, writer schema = reader schema',
  resolved: `wire format, writer schema + \`${ADDED_FIELD.name}\` (resolved)`,
  evolved: `plain Avro of those evolved records with their own schema (no resolution; for comparison)`,
};

export interface RegistryDecodeResult {
  pool: number;
  recordsPerRound: number;
  rounds: number;
  addedField: typeof ADDED_FIELD;
  /** The decoder's own test: the 'same' writer schema equals the reader, the evolved one does not. */
  writerEqualsReader: { same: boolean; resolved: boolean };
  decode: Record<DecodePath, PathTiming>;
  /** Over plain Avro. */
  decodeRatios: Record<Exclude<DecodePath, 'plain'>, Ratios>;
  encode: Record<EncodePath, PathTiming>;
  /** The wire format over plain Avro. */
  encodeRatio: Ratios;
}

/** Rounds and records per round: 15 rounds of 200,000 in full, 5 of 50,000 with --quick. */
export const decodeRounds = (options: BenchOptions) =>
  options.quick ? { rounds: 5, records: 50_000 } : { rounds: 15, records: 200_000 };

/** The reader schema's text with ADDED_FIELD appended: what a producer one compatible step ahead writes. */
function evolvedSchemaText(readerText: string): string {
  const schema = JSON.parse(readerText) as { fields: unknown[] };
  return JSON.stringify({ ...schema, fields: [...schema.fields, ADDED_FIELD] });
}

function withHeader(id: number, datum: Buffer): Buffer {
  return Buffer.concat([wireHeader(id), datum]);
}

export async function measureWireDecode(
  model: string,
  rounds: number,
  recordsPerRound: number,
): Promise<RegistryDecodeResult> {
  const readerText = readFileSync(packagePath('schemas/card-transaction.avsc'), 'utf8');
  const reader = eventCodec.type;
  const evolvedText = evolvedSchemaText(readerText);
  const evolved = avro.Type.forSchema(JSON.parse(evolvedText) as avro.Schema);
  const texts = new Map<number, string>([
    [SAME_ID, readerText],
    [EVOLVED_ID, evolvedText],
  ]);
  const schemas: WriterSchemas = { schemaById: async (id) => texts.get(id) };

  const source = createEventSource('unique');
  const events: CardTransaction[] = Array.from({ length: POOL }, (_, sequence) => source.next(sequence));
  const plainPool = events.map((event) => eventCodec.encode(event));
  const evolvedPool = events.map((event, sequence) =>
    evolved.toBuffer({ ...event, [ADDED_FIELD.name]: `T-${sequence % 977}` }),
  );
  const pools: Record<DecodePath, Buffer[]> = {
    plain: plainPool,
    same: plainPool.map((datum) => withHeader(SAME_ID, datum)),
    resolved: evolvedPool.map((datum) => withHeader(EVOLVED_ID, datum)),
    evolved: evolvedPool,
  };
  const decoders: Record<DecodePath, RecordDecoder<CardTransaction>> = {
    plain: createAvroCodec<CardTransaction>(reader),
    same: createConfluentDecoder<CardTransaction>(reader, schemas),
    resolved: createConfluentDecoder<CardTransaction>(reader, schemas),
    evolved: createAvroCodec<CardTransaction>(evolved),
  };
  // Once, as the service's prepare() does for a batch holding a new writer id; never timed.
  for (const path of DECODE_PATHS) await decoders[path].prepare([{ value: pools[path][0]! }]);

  // The wire paths must read the same events: a path that decoded something else would time something else.
  for (let index = 0; index < 50; index++) {
    const expected = JSON.stringify(decoders.plain.decode(plainPool[index]!));
    for (const path of ['same', 'resolved'] as const) {
      if (JSON.stringify(decoders[path].decode(pools[path][index]!)) !== expected) {
        throw new Error(`the ${path} path decoded event ${index} differently from plain Avro`);
      }
    }
  }

  const passes = Math.max(1, Math.round(recordsPerRound / POOL));
  const records = passes * POOL;
  // One loop per path (see lib/path-timing.ts); each sums the event ids' lengths so nothing is optimised away.
  const decodeLoop = (decoder: RecordDecoder<CardTransaction>, pool: readonly Buffer[]) => () => {
    let check = 0;
    for (let pass = 0; pass < passes; pass++) {
      for (let index = 0; index < POOL; index++) check += decoder.decode(pool[index]!).event_id.length;
    }
    return check;
  };
  const decoding = pathGroup(DECODE_PATHS, (path) => decodeLoop(decoders[path], pools[path]));

  const manifest = await readManifest(join(packagePath('models'), model, '1'));
  const context = {
    manifest,
    variant: 'primary',
    fetchedAt: 0,
    scoredAt: 0,
    scoredTime: Date.UTC(2026, 0, 1),
  };
  const predictions = events.map((event, index) =>
    toPrediction(event as unknown as ScoredEvent, (index % 100) / 100, context),
  );
  const encoders: Record<EncodePath, RecordEncoder<Prediction>> = {
    plain: createAvroCodec<Prediction>(predictionCodec.type),
    wire: createConfluentEncoder<Prediction>(predictionCodec.type, PREDICTION_ID),
  };
  const encodeLoop = (encoder: RecordEncoder<Prediction>) => () => {
    let check = 0;
    for (let pass = 0; pass < passes; pass++) {
      for (let index = 0; index < POOL; index++) check += encoder.encode(predictions[index]!).length;
    }
    return check;
  };
  const encoding = pathGroup(ENCODE_PATHS, (path) => encodeLoop(encoders[path]));

  for (let warm = 0; warm < 2; warm++) {
    warmUp(decoding);
    warmUp(encoding);
  }
  for (let round = 0; round < rounds; round++) {
    const decode = timeRound(decoding, round, records);
    const encode = timeRound(encoding, round, records);
    process.stderr.write(
      `  round ${round + 1}/${rounds}, CPU µs per record: decode ${decode}; encode ${encode}\n`,
    );
  }
  const { times } = decoding;
  for (const path of DECODE_PATHS) {
    if (times[path].checks.some((check, index) => check !== times.plain.checks[index])) {
      throw new Error(`the ${path} path decoded other event ids than plain Avro`);
    }
  }

  const encoded = perPath(ENCODE_PATHS, (path) =>
    predictions.slice(0, 1_000).map((prediction) => encoders[path].encode(prediction)),
  );
  return {
    pool: POOL,
    recordsPerRound: records,
    rounds,
    addedField: ADDED_FIELD,
    writerEqualsReader: {
      same: avro.Type.forSchema(JSON.parse(readerText) as avro.Schema).equals(reader),
      resolved: evolved.equals(reader),
    },
    decode: perPath(DECODE_PATHS, (path) => pathTiming(times[path], pools[path])),
    decodeRatios: perPath(['same', 'resolved', 'evolved'] as const, (path) =>
      ratiosTo(times[path], times.plain),
    ),
    encode: perPath(ENCODE_PATHS, (path) => pathTiming(encoding.times[path], encoded[path])),
    encodeRatio: ratiosTo(encoding.times.wire, encoding.times.plain),
  };
}
