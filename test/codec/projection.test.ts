/**
 * Decoders asked for some fields decode only those (src/codec/projection.ts): the values of those fields
 * are what a full decode gives, the other fields are absent, asking for more widens what is decoded, and
 * the format's checks (truncation, trailing bytes, writers the reader cannot read) are unchanged.
 */
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { createAvroCodec, createConfluentDecoder, loadAvroSchema } from '../../src/codec/index.js';
import { packagePath } from '../../src/config/index.js';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { decodeOutcome } from '../support/codecs.js';
import { evolutionCases, readerSchema, wireFormat, writeDatum } from '../support/schema-evolution.js';

const reader = loadAvroSchema(packagePath('schemas/card-transaction.avsc'));
const events = sampleTransactions({ seed: 5 });
const nextEvent = () => events.next().value as CardTransaction;

const only = (value: object, fields: readonly string[]) =>
  Object.fromEntries(Object.entries(value).filter(([name]) => fields.includes(name)));

describe('decoding only the fields asked for, plain Avro', () => {
  it('decodes every field until asked, then only those asked for, widening with each call', () => {
    const codec = createAvroCodec<CardTransaction>(reader);
    const event = nextEvent();
    const bytes = codec.encode(event);
    expect({ ...codec.decode(bytes) }).toEqual(event);

    codec.readFields(['event_id', 'amount_minor', 'not_a_field']);
    expect({ ...codec.decode(bytes) }).toEqual(only(event, ['event_id', 'amount_minor']));

    codec.readFields(['channel', 'latitude']);
    const widened = ['event_id', 'amount_minor', 'channel', 'latitude'];
    expect({ ...codec.decode(bytes) }).toEqual(only(event, widened));
    // Every event of a stream, not just the first: the skipped fields vary in length.
    for (let index = 0; index < 200; index++) {
      const next = nextEvent();
      expect({ ...codec.decode(codec.encode(next)) }).toEqual(only(next, widened));
    }
  });

  it('still refuses a value cut short or followed by bytes', () => {
    const codec = createAvroCodec<CardTransaction>(reader);
    codec.readFields(['event_id']);
    const bytes = codec.encode(nextEvent());
    expect(decodeOutcome(codec, bytes.subarray(0, bytes.length - 1))).toBe('RECORD_TRUNCATED');
    expect(decodeOutcome(codec, Buffer.concat([bytes, Buffer.from([0])]))).toBe('RECORD_TRAILING_BYTES');
  });

  it('reads a field whose named type is defined in a field it skips', () => {
    const type = avro.Type.forSchema({
      type: 'record',
      name: 'Pair',
      fields: [
        { name: 'first', type: { type: 'enum', name: 'Side', symbols: ['LEFT', 'RIGHT'] } },
        { name: 'second', type: 'Side' },
      ],
    });
    const codec = createAvroCodec<{ first: string; second: string }>(type);
    codec.readFields(['second']);
    expect({ ...codec.decode(codec.encode({ first: 'LEFT', second: 'RIGHT' })) }).toEqual({
      second: 'RIGHT',
    });
  });
});

describe('decoding only the fields asked for, Confluent wire format', () => {
  const fields = ['event_id', 'event_time', 'amount_minor', 'channel', 'ip_address'];
  const schemas: Record<number, string> = {
    1: JSON.stringify(readerSchema()),
    ...Object.fromEntries(evolutionCases.map(({ schema }, index) => [index + 2, schema])),
  };
  const registry = { schemaById: async (id: number) => schemas[id] };

  it('reads every evolved writer as a full decode would, only the fields asked for', async () => {
    const decoder = createConfluentDecoder<CardTransaction>(reader, registry);
    decoder.readFields(fields);
    for (const [index, evolution] of evolutionCases.entries()) {
      const event = nextEvent();
      const bytes = wireFormat(index + 2, writeDatum(evolution.schema, evolution.written(event)));
      await decoder.prepare([{ value: bytes }]);
      if (evolution.read) expect({ ...decoder.decode(bytes) }).toEqual(only(evolution.read(event), fields));
      // A writer without a field the reader needs stays refused, though that field is not asked for here.
      else expect(decodeOutcome(decoder, bytes)).toBe(evolution.refusedWith);
    }
  });

  it('widens readings already made when asked for more fields', async () => {
    const decoder = createConfluentDecoder<CardTransaction>(reader, registry);
    decoder.readFields(['event_id']);
    const event = nextEvent();
    const bytes = wireFormat(1, reader.toBuffer(event));
    await decoder.prepare([{ value: bytes }]);
    expect({ ...decoder.decode(bytes) }).toEqual(only(event, ['event_id']));
    decoder.readFields(['merchant_category']);
    expect({ ...decoder.decode(bytes) }).toEqual(only(event, ['event_id', 'merchant_category']));
  });
});
