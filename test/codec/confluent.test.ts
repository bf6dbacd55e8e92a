import { describe, expect, it } from 'vitest';
import {
  createConfluentDecoder,
  createConfluentEncoder,
  loadAvroSchema,
  schemaIdOf,
  type WriterSchemas,
} from '../../src/codec/index.js';
import { packagePath } from '../../src/config/index.js';
import { BadRecordError, StreamscoreError } from '../../src/errors/index.js';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { evolutionCases, readerSchema, wireFormat, writeDatum } from '../support/schema-evolution.js';

const reader = loadAvroSchema(packagePath('schemas/card-transaction.avsc'));
const events = sampleTransactions({ seed: 11 });
const nextEvent = () => events.next().value as CardTransaction;
const READER_ID = 1;

/** A registry in memory, counting look-ups; `failing` makes every look-up fail as an outage would. */
function registryOf(schemas: Record<number, string>) {
  const asked: number[] = [];
  let failing = false;
  const source: WriterSchemas = {
    async schemaById(id) {
      asked.push(id);
      if (failing) throw new StreamscoreError('REGISTRY_UNAVAILABLE', 'registry down');
      return schemas[id];
    },
  };
  return {
    source,
    asked,
    fail: (value: boolean) => {
      failing = value;
    },
  };
}

async function decodeAll(decoder: ReturnType<typeof createConfluentDecoder>, values: Buffer[]) {
  await decoder.prepare(values.map((value) => ({ value })));
  return values.map((value) => {
    try {
      return decoder.decode(value);
    } catch (error) {
      expect(error).toBeInstanceOf(BadRecordError);
      return (error as BadRecordError).code;
    }
  });
}

describe('Confluent wire format decoder', () => {
  const readerText = JSON.stringify(readerSchema());

  it('decodes records written in the reader schema itself', async () => {
    const registry = registryOf({ [READER_ID]: readerText });
    const decoder = createConfluentDecoder<CardTransaction>(reader, registry.source);
    const event = nextEvent();
    const [decoded] = await decodeAll(decoder, [wireFormat(READER_ID, reader.toBuffer(event))]);
    expect({ ...(decoded as CardTransaction) }).toEqual(event);
  });

  for (const evolution of evolutionCases) {
    it(`resolves a writer that ${evolution.name}`, async () => {
      const registry = registryOf({ 7: evolution.schema });
      const decoder = createConfluentDecoder<CardTransaction>(reader, registry.source);
      const event = nextEvent();
      const [decoded] = await decodeAll(decoder, [
        wireFormat(7, writeDatum(evolution.schema, evolution.written(event))),
      ]);
      if (evolution.read) expect({ ...(decoded as CardTransaction) }).toEqual(evolution.read(event));
      else expect(decoded).toBe(evolution.refusedWith);
    });
  }

  it('asks the registry once per writer id, however many records and batches carry it', async () => {
    const registry = registryOf({ [READER_ID]: readerText, 9: evolutionCases[0]!.schema });
    const decoder = createConfluentDecoder<CardTransaction>(reader, registry.source);
    const batch = Array.from({ length: 50 }, (_, index) => {
      const event = nextEvent();
      return index % 2 === 0
        ? wireFormat(READER_ID, reader.toBuffer(event))
        : wireFormat(9, writeDatum(evolutionCases[0]!.schema, evolutionCases[0]!.written(event)));
    });
    await decodeAll(decoder, batch);
    await decodeAll(decoder, batch);
    expect(registry.asked.sort()).toEqual([READER_ID, 9]);
    // A batch whose ids are all known needs no asynchronous step at all.
    expect(decoder.prepare(batch.map((value) => ({ value })))).toBeUndefined();
  });

  it('refuses an unknown id, and asks about it again only after a while', async () => {
    const registry = registryOf({});
    const decoder = createConfluentDecoder<CardTransaction>(reader, registry.source, {
      unknownIdRetryMs: 60_000,
    });
    const value = wireFormat(404, reader.toBuffer(nextEvent()));
    expect(await decodeAll(decoder, [value, value])).toEqual(['SCHEMA_NOT_FOUND', 'SCHEMA_NOT_FOUND']);
    expect(await decodeAll(decoder, [value])).toEqual(['SCHEMA_NOT_FOUND']);
    expect(registry.asked).toEqual([404]);

    const eager = createConfluentDecoder<CardTransaction>(reader, registry.source, { unknownIdRetryMs: 0 });
    await decodeAll(eager, [value]);
    await decodeAll(eager, [value]);
    expect(registry.asked).toEqual([404, 404, 404]);
  });

  it('refuses a record without the magic byte, and one that ends inside the header', async () => {
    const decoder = createConfluentDecoder<CardTransaction>(reader, registryOf({}).source);
    const plain = reader.toBuffer(nextEvent());
    plain[0] = 1;
    expect(await decodeAll(decoder, [plain, Buffer.from([0, 0, 1])])).toEqual([
      'SCHEMA_MAGIC_BYTE',
      'RECORD_TRUNCATED',
    ]);
    expect(schemaIdOf(plain)).toBeUndefined();
  });

  it('refuses a writer schema that is not Avro', async () => {
    const registry = registryOf({ 5: 'syntax = "proto3"; message CardTransaction {}' });
    const decoder = createConfluentDecoder<CardTransaction>(reader, registry.source);
    expect(await decodeAll(decoder, [wireFormat(5, Buffer.from([1, 2, 3]))])).toEqual([
      'SCHEMA_INCOMPATIBLE',
    ]);
  });

  it('applies the strict checks of plain Avro after the header', async () => {
    const decoder = createConfluentDecoder<CardTransaction>(
      reader,
      registryOf({ [READER_ID]: readerText }).source,
    );
    const value = wireFormat(READER_ID, reader.toBuffer(nextEvent()));
    expect(
      await decodeAll(decoder, [
        value.subarray(0, value.length - 1),
        Buffer.concat([value, Buffer.from([0])]),
      ]),
    ).toEqual(['RECORD_TRUNCATED', 'RECORD_TRAILING_BYTES']);
  });

  it('lets a registry outage fail the whole prepare, blaming no record, and remembers nothing of it', async () => {
    const registry = registryOf({ [READER_ID]: readerText });
    const decoder = createConfluentDecoder<CardTransaction>(reader, registry.source);
    const event = nextEvent();
    const value = wireFormat(READER_ID, reader.toBuffer(event));
    registry.fail(true);
    await expect(decoder.prepare([{ value }])).rejects.toMatchObject({ code: 'REGISTRY_UNAVAILABLE' });
    registry.fail(false);
    const [decoded] = await decodeAll(decoder, [value]);
    expect({ ...(decoded as CardTransaction) }).toEqual(event);
  });
});

describe('Confluent wire format encoder', () => {
  it('writes the magic byte, the id big-endian and the datum', () => {
    const encoder = createConfluentEncoder<CardTransaction>(reader, 0x01020304);
    const event = nextEvent();
    const encoded = encoder.encode(event);
    expect([...encoded.subarray(0, 5)]).toEqual([0, 1, 2, 3, 4]);
    expect(encoded.subarray(5).equals(reader.toBuffer(event))).toBe(true);
  });

  it('gives each record bytes of its own, and grows past its scratch buffer', () => {
    const encoder = createConfluentEncoder<CardTransaction>(reader, 3);
    const first = nextEvent();
    const firstBytes = encoder.encode(first);
    const huge = { ...nextEvent(), merchant_id: 'm'.repeat(100_000) };
    const hugeBytes = encoder.encode(huge);
    expect(reader.fromBuffer(firstBytes.subarray(5))).toMatchObject({ event_id: first.event_id });
    expect(reader.fromBuffer(hugeBytes.subarray(5))).toMatchObject({ merchant_id: huge.merchant_id });
    expect(schemaIdOf(hugeBytes)).toBe(3);
  });
});
