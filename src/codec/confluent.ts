/**
 * The Confluent wire format: magic byte 0, the writer schema's registry id (4 bytes, big-endian), then the
 * Avro binary datum. The writer schema is fetched by id once per process (ids are immutable) in a batch's
 * `prepare`, and resolved against the reader schema the features are compiled for with Avro's resolution
 * rules, so that a producer may evolve its schema as those rules allow. Decoding itself stays synchronous.
 */
import type avro from 'avsc';
import { BadRecordError, StreamscoreError } from '../errors/index.js';
import {
  type AvroResolver,
  createPrefixedEncoder,
  decodeExactly,
  type PrefixedEncoder,
  parseAvroSchema,
  type RecordDecoder,
  requireValue,
  typeName,
} from './avro.js';
import { createFieldProjection } from './projection.js';

export const MAGIC_BYTE = 0;
export const HEADER_BYTES = 5;

/** Where writer schemas come from: a schema registry, by id. */
export interface WriterSchemas {
  /** The schema's text, or undefined when the registry has no schema under this id. */
  schemaById(id: number): Promise<string | undefined>;
}

/**
 * How a writer id reads: as the decoded type of a projection generation (with a resolver unless the
 * writer is that type), or not at all. Whether a writer can be read at all is judged against the whole
 * reader schema, so asking for fewer fields never admits a writer the reader refuses.
 */
type Reading =
  | {
      kind: 'readable';
      writer: avro.Type;
      generation: number;
      type: avro.Type;
      resolver: AvroResolver | undefined;
    }
  | { kind: 'refused'; error: BadRecordError };

export interface ConfluentDecoderOptions {
  /**
   * How long an id the registry did not know is refused without asking again; a stream of records with
   * one unknown id then costs one look-up per interval, not one per batch.
   */
  unknownIdRetryMs?: number;
}

const UNKNOWN_ID_RETRY_MS = 30_000;

/** The writer schema id of a wire-format record; undefined when the record is not in the format. */
export function schemaIdOf(buffer: Buffer | null): number | undefined {
  if (buffer === null || buffer.length < HEADER_BYTES || buffer[0] !== MAGIC_BYTE) return undefined;
  return buffer.readUInt32BE(1);
}

function readingFor(reader: avro.Type, id: number, text: string | undefined): Reading {
  if (text === undefined) {
    return {
      kind: 'refused',
      error: new BadRecordError('SCHEMA_NOT_FOUND', `the schema registry has no schema with id ${id}`),
    };
  }
  try {
    const writer = parseAvroSchema(text, `writer schema ${id}`);
    if (!writer.equals(reader)) reader.createResolver(writer); // throws when the reader cannot read it
    // No generation yet: decoding builds the resolver for the projection in force.
    return { kind: 'readable', writer, generation: -1, type: reader, resolver: undefined };
  } catch (error) {
    return {
      kind: 'refused',
      error: new BadRecordError(
        'SCHEMA_INCOMPATIBLE',
        `writer schema ${id} cannot be read as ${typeName(reader)}: ${error instanceof Error ? error.message : String(error)}`,
      ),
    };
  }
}

export function createConfluentDecoder<T>(
  reader: avro.Type,
  schemas: WriterSchemas,
  options: ConfluentDecoderOptions = {},
): RecordDecoder<T> {
  const unknownIdRetryMs = options.unknownIdRetryMs ?? UNKNOWN_ID_RETRY_MS;
  const readings = new Map<number, Reading>();
  const projection = createFieldProjection(reader);
  /** When each id refused as unknown may be asked about again. */
  const unknownUntil = new Map<number, number>();

  const needed = (id: number, now: number) => {
    const reading = readings.get(id);
    if (reading === undefined) return true;
    if (reading.kind !== 'refused' || reading.error.code !== 'SCHEMA_NOT_FOUND') return false;
    return (unknownUntil.get(id) ?? 0) <= now;
  };

  const fetchReadings = async (ids: Set<number>) => {
    const texts = await Promise.all([...ids].map((id) => schemas.schemaById(id)));
    const now = Date.now();
    let index = 0;
    for (const id of ids) {
      const text = texts[index++];
      readings.set(id, readingFor(reader, id, text));
      if (text === undefined) unknownUntil.set(id, now + unknownIdRetryMs);
      else unknownUntil.delete(id);
    }
  };

  return {
    type: reader,
    prepare(records) {
      let missing: Set<number> | undefined;
      const now = Date.now();
      for (const { value } of records) {
        const id = schemaIdOf(value);
        if (id === undefined || !needed(id, now)) continue;
        missing ??= new Set();
        missing.add(id);
      }
      return missing && fetchReadings(missing);
    },
    decode(buffer) {
      requireValue(buffer);
      if (buffer[0] !== MAGIC_BYTE) {
        throw new BadRecordError(
          'SCHEMA_MAGIC_BYTE',
          `first byte is ${buffer[0]}, not the wire format's magic byte ${MAGIC_BYTE}`,
        );
      }
      if (buffer.length < HEADER_BYTES) {
        throw new BadRecordError('RECORD_TRUNCATED', 'value ends inside the wire-format header');
      }
      const id = buffer.readUInt32BE(1);
      const reading = readings.get(id);
      if (reading === undefined) {
        // prepare() was skipped for this record: a mistake in the code, not in the record.
        throw new StreamscoreError(
          'REGISTRY_UNAVAILABLE',
          `writer schema ${id} was not fetched before decoding`,
        );
      }
      if (reading.kind === 'refused') throw reading.error;
      if (reading.generation !== projection.generation) {
        reading.generation = projection.generation;
        reading.type = projection.type;
        reading.resolver = projection.resolverFrom(reading.writer);
      }
      return decodeExactly<T>(reading.type, buffer, HEADER_BYTES, reading.resolver);
    },
    readFields: (fields) => projection.readFields(fields),
  };
}

/** Writes values of `type` in the wire format under the registry id `schemaId`. */
export function createConfluentEncoder<T>(type: avro.Type, schemaId: number): PrefixedEncoder<T> {
  const header = Buffer.alloc(HEADER_BYTES);
  header[0] = MAGIC_BYTE;
  header.writeUInt32BE(schemaId, 1);
  return createPrefixedEncoder(type, header);
}
