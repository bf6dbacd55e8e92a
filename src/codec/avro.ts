/**
 * Plain Avro binary records against one schema file. Decoding is strict: a record must be exactly one
 * datum of the schema, with no bytes missing or left over, or it is refused with a code saying why.
 */
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { BadRecordError, ConfigurationError } from '../errors/index.js';

export interface AvroCodec<T> {
  readonly name: string;
  readonly type: avro.Type;
  decode(buffer: Buffer | null): T;
  encode(value: T): Buffer;
}

export function loadAvroSchema(path: string): avro.Type {
  let schema: unknown;
  try {
    schema = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigurationError('SCHEMA_INVALID', `cannot read Avro schema ${path}`, { cause: error });
  }
  try {
    return avro.Type.forSchema(schema as avro.Schema);
  } catch (error) {
    throw new ConfigurationError('SCHEMA_INVALID', `${path} is not a valid Avro schema`, { cause: error });
  }
}

export function createAvroCodec<T>(type: avro.Type): AvroCodec<T> {
  const name = type.name ?? type.typeName;
  return {
    name,
    type,
    decode(buffer) {
      if (buffer === null || buffer.length === 0) {
        throw new BadRecordError('RECORD_EMPTY', 'record has no value');
      }
      let decoded: { value: unknown; offset: number };
      // avsc itself throws on out-of-range union and enum indexes and on invalid lengths.
      try {
        decoded = type.decode(buffer, 0);
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
    },
    encode(value) {
      return type.toBuffer(value);
    },
  };
}
