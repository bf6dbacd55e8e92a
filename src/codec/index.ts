export {
  type AvroCodec,
  createAvroCodec,
  loadAvroSchema,
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
