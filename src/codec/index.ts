export {
  type AvroCodec,
  createAvroCodec,
  loadAvroSchema,
  type PrefixedEncoder,
  parseAvroSchema,
  type RecordDecoder,
  type RecordEncoder,
} from './avro.js';
export {
  createConfluentDecoder,
  createConfluentEncoder,
  HEADER_BYTES,
  MAGIC_BYTE,
  schemaIdOf,
  type WriterSchemas,
} from './confluent.js';
export {
  DatumWriter,
  DOUBLE_BYTES,
  encodedDouble,
  encodedLong,
  encodedString,
  MAX_LONG_BYTES,
  maxStringBytes,
} from './datum-writer.js';
