/**
 * The events the generator publishes and how the latency consumer recognises them again. Each event's
 * event_id is its sequence number in the run, so the consumer finds the event's scheduled send time by
 * index instead of through a map, and reads that id straight from the record's first bytes.
 */
import type avro from 'avsc';
import { type AvroCodec, createAvroCodec, loadAvroSchema } from '../../src/codec/index.js';
import { packagePath } from '../../src/config/index.js';
import { type CardTransaction, sampleTransactions, seededRandom } from '../../src/sample/index.js';

export const eventCodec: AvroCodec<CardTransaction> = createAvroCodec<CardTransaction>(
  loadAvroSchema(packagePath('schemas/card-transaction.avsc')),
);
export const predictionCodec = createAvroCodec(loadAvroSchema(packagePath('schemas/prediction.avsc')));

export type StreamKind = 'unique' | 'repeats';

/** Events with fresh features, or a stream where most events repeat the features of a few hundred. */
export interface EventSource {
  readonly kind: StreamKind;
  /** The event with sequence number `sequence`, its event_id set to that number. */
  next(sequence: number): CardTransaction;
}

/** Share of a repeats stream drawn from the pool; the rest are fresh events. */
const REPEAT_SHARE = 0.8;
const REPEAT_POOL = 500;

export function createEventSource(kind: StreamKind, seed = 7): EventSource {
  const fresh = sampleTransactions({ seed, startTime: Date.UTC(2026, 0, 1) });
  const nextFresh = () => fresh.next().value as CardTransaction;
  if (kind === 'unique') {
    return { kind, next: (sequence) => ({ ...nextFresh(), event_id: String(sequence) }) };
  }
  const pool = Array.from({ length: REPEAT_POOL }, nextFresh);
  const random = seededRandom(seed + 1);
  return {
    kind,
    next: (sequence) => {
      const event = random.chance(REPEAT_SHARE) ? random.pick(pool) : nextFresh();
      return { ...event, event_id: String(sequence) };
    },
  };
}

function leadsWithEventId(type: avro.Type): boolean {
  const fields = (type as unknown as { fields?: { name: string; type: avro.Type }[] }).fields;
  return fields?.[0]?.name === 'event_id' && fields[0].type.typeName === 'string';
}

if (!leadsWithEventId(eventCodec.type) || !leadsWithEventId(predictionCodec.type)) {
  throw new Error('readSequence expects event_id, a string, as the first field of both schemas');
}

/**
 * The sequence number in the event_id that leads an event or a prediction record. Decoding the whole
 * record would cost the latency consumer a few microseconds per record on a machine whose cores the
 * service needs; the first field is an Avro string: a zig-zag varint length, then the bytes.
 */
export function readSequence(value: Buffer): number {
  let length = 0;
  let shift = 0;
  let offset = 0;
  let byte: number;
  do {
    byte = value[offset++]!;
    length |= (byte & 0x7f) << shift;
    shift += 7;
  } while (byte & 0x80);
  length = (length >>> 1) ^ -(length & 1);
  let sequence = 0;
  for (let end = offset + length; offset < end; offset++) sequence = sequence * 10 + (value[offset]! - 48);
  return sequence;
}
