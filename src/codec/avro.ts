/**
 * Plain Avro binary records against one schema file. Decoding is strict: a record must be exactly one
 * datum of the schema, with no bytes missing or left over, or it is refused with a code saying why.
 */
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { BadRecordError, ConfigurationError } from '../errors/index.js';
import { createFieldProjection } from './projection.js';

/** Turns a record's bytes into a value; `prepare` fetches what a batch needs before its synchronous decode. */
export interface RecordDecoder<T> {
  /** The reader schema: what decoded values look like. */
  readonly type: avro.Type;
  /** Undefined when nothing needs fetching, so the hot path stays synchronous. */
  prepare(values: readonly { value: Buffer | null }[]): Promise<void> | undefined;
  decode(buffer: Buffer | null): T;
  /**
   * From now on, decoded values need carry only these fields and those named in earlier calls; the others
   * are skipped. Until the first call, values carry every field.
   */
  readFields(fields: Iterable<string>): void;
}

export interface RecordEncoder<T> {
  encode(value: T): Buffer;
}

/** An encoder whose framing is known, so that a writer specialised to its schema can frame datums alike. */
export interface PrefixedEncoder<T> extends RecordEncoder<T> {
  /** The bytes before every datum: none for plain Avro, the Confluent header for the wire format. */
  readonly prefix: Buffer;
}

export interface AvroCodec<T> extends RecordDecoder<T>, PrefixedEncoder<T> {
  readonly name: string;
}

export function parseAvroSchema(text: string, origin: string): avro.Type {
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError('SCHEMA_INVALID', `${origin} is not JSON`, { cause: error });
  }
  try {
    return avro.Type.forSchema(schema as avro.Schema);
  } catch (error) {
    throw new ConfigurationError('SCHEMA_INVALID', `${origin} is not a valid Avro schema`, { cause: error });
  }
}

export function loadAvroSchema(path: string): avro.Type {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigurationError('SCHEMA_INVALID', `cannot read Avro schema ${path}`, { cause: error });
  }
  return parseAvroSchema(text, path);
}

export const typeName = (type: avro.Type): string => type.name ?? type.typeName;

export type AvroResolver = ReturnType<avro.Type['createResolver']>;

/**
 * Decodes exactly one datum of `type` from `buffer`, starting at `offset`: the bytes must end where the
 * datum does. With a resolver, the bytes are written in the resolver's writer schema.
 */
export function decodeExactly<T>(
  type: avro.Type,
  buffer: Buffer,
  offset: number,
  resolver?: AvroResolver,
): T {
  const name = typeName(type);
  let decoded: { value: unknown; offset: number };
  // avsc itself throws on out-of-range union and enum indexes and on invalid lengths.
  try {
    decoded = type.decode(buffer, offset, resolver);
  } catch (error) {
    throw new BadRecordError('RECORD_UNDECODABLE', `value is not a valid ${name} Avro datum`, {
      cause: error,
    });
  }
  // avsc signals a datum running past the end of the buffer with a negative offset.
  if (decoded.offset < 0) {
    throw new BadRecordError('RECORD_TRUNCATED', `value ends inside a ${name} datum`);
  }
  if (decoded.offset !== buffer.length) {
    throw new BadRecordError(
      'RECORD_TRAILING_BYTES',
      `${buffer.length - decoded.offset} bytes follow the ${name} datum`,
    );
  }
  return decoded.value as T;
}

export function requireValue(buffer: Buffer | null): asserts buffer is Buffer {
  if (buffer === null || buffer.length === 0) {
    throw new BadRecordError('RECORD_EMPTY', 'record has no value');
  }
}

/** Bytes of one chunk the encodings are written into; a larger value gets a chunk of its own size. */
const ENCODING_CHUNK_BYTES = 64 * 1024;

/**
 * Encodes each value after `prefix` straight into a shared chunk and returns its bytes as a view of the
 * chunk: no scratch copy and no allocation per record beyond the view (avsc's toBuffer zero-fills a
 * buffer per value and copies into it). A chunk is never written twice, so a view stays valid for as long
 * as it is held; the next value that does not fit starts a new chunk, and the old one is freed with the
 * last view of it.
 */
export function createPrefixedEncoder<T>(type: avro.Type, prefix: Buffer): PrefixedEncoder<T> {
  let chunk = Buffer.allocUnsafe(0);
  let used = 0;
  return {
    prefix,
    encode(value) {
      let start = used;
      prefix.copy(chunk, start);
      let end = type.encode(value, chunk, start + prefix.length);
      if (end < 0) {
        // A negative end is minus the bytes missing, so the encoding and its prefix take this many.
        const bytes = chunk.length - start - end;
        chunk = Buffer.allocUnsafe(Math.max(ENCODING_CHUNK_BYTES, bytes));
        start = 0;
        prefix.copy(chunk, 0);
        end = type.encode(value, chunk, prefix.length);
      }
      used = end;
      return chunk.subarray(start, end);
    },
  };
}

const NO_PREFIX = Buffer.alloc(0);

export function createAvroCodec<T>(type: avro.Type): AvroCodec<T> {
  const { encode, prefix } = createPrefixedEncoder<T>(type, NO_PREFIX);
  const projection = createFieldProjection(type);
  let reading = { generation: 0, type, resolver: undefined as AvroResolver | undefined };
  return {
    name: typeName(type),
    type,
    prepare: () => undefined,
    decode(buffer) {
      requireValue(buffer);
      if (reading.generation !== projection.generation) {
        const { generation, type: read } = projection;
        reading = { generation, type: read, resolver: projection.resolverFrom(type) };
      }
      return decodeExactly<T>(reading.type, buffer, 0, reading.resolver);
    },
    readFields: (fields) => projection.readFields(fields),
    encode,
    prefix,
  };
}
