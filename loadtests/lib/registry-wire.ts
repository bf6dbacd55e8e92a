/**
 * The wire-format benchmark's records: the same events in plain Avro or in the Confluent wire format (magic
 * byte 0, the writer schema's registry id as 4 bytes big-endian, then the same Avro datum). The header is
 * written here by hand, as another team's producer would, not by the encoder under test.
 */
import type { CardTransaction } from '../../src/sample/index.js';
import { eventCodec } from './events.js';
import type { RecordFormat } from './targets.js';

export const RECORD_FORMATS: readonly RecordFormat[] = ['avro', 'confluent'];

export const FORMAT_LABELS: Record<RecordFormat, string> = {
  avro: 'plain Avro',
  confluent: 'wire format + registry',
};

export function wireHeader(schemaId: number): Buffer {
  const header = Buffer.alloc(5);
  header[0] = 0;
  header.writeUInt32BE(schemaId, 1);
  return header;
}

/** The registry id a record's value starts with, or null when it is not in the wire format. */
export const schemaIdIn = (value: Buffer | null) =>
  value && value.length >= 5 && value[0] === 0 ? value.readUInt32BE(1) : null;

/** Plain Avro, or the wire format under `schemaId`. */
export function eventEncoder(schemaId: number | undefined): (event: CardTransaction) => Buffer {
  if (schemaId === undefined) return (event) => eventCodec.encode(event);
  const header = wireHeader(schemaId);
  return (event) => Buffer.concat([header, eventCodec.encode(event)]);
}
