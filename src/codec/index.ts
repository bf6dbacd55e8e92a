export { type AvroCodec, createAvroCodec, loadAvroSchema } from './avro.js';
