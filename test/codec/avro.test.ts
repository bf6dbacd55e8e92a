import { describe, expect, it } from 'vitest';
import { createAvroCodec, loadAvroSchema } from '../../src/codec/index.js';
import { packagePath } from '../../src/config/index.js';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { decodeOutcome } from '../support/codecs.js';

const codec = createAvroCodec<CardTransaction>(loadAvroSchema(packagePath('schemas/card-transaction.avsc')));
const event = sampleTransactions({ seed: 1 }).next().value as CardTransaction;
const encoded = codec.encode(event);

const codeOf = (buffer: Buffer | null) => decodeOutcome(codec, buffer);

describe('Avro codec', () => {
  it('round-trips a sample event', () => {
    expect({ ...codec.decode(encoded) }).toEqual(event);
  });

  it('refuses an empty or missing value', () => {
    expect(codeOf(null)).toBe('RECORD_EMPTY');
    expect(codeOf(Buffer.alloc(0))).toBe('RECORD_EMPTY');
  });

  it('refuses a value cut short at any point', () => {
    for (let length = 1; length < encoded.length; length += 7) {
      expect(['RECORD_TRUNCATED', 'RECORD_UNDECODABLE']).toContain(codeOf(encoded.subarray(0, length)));
    }
    expect(codeOf(encoded.subarray(0, encoded.length - 1))).toBe('RECORD_TRUNCATED');
  });

  it('refuses bytes after the datum', () => {
    expect(codeOf(Buffer.concat([encoded, Buffer.from([0])]))).toBe('RECORD_TRAILING_BYTES');
  });

  it('refuses an enum index outside the symbols', () => {
    // Re-encode with the channel's position holding an out-of-range index: find it by encoding both ways.
    const pos = codec.encode({ ...event, channel: 'POS' });
    const moto = codec.encode({ ...event, channel: 'MOTO' });
    const at = pos.findIndex((byte, index) => byte !== moto[index]);
    const spoiled = Buffer.from(pos);
    spoiled[at] = 2 * 9; // zig-zag 9: there are five symbols
    expect(codeOf(spoiled)).toBe('RECORD_UNDECODABLE');
  });

  it('refuses a bad union branch index', () => {
    const withDevice = codec.encode({ ...event, device_id: null });
    const withOther = codec.encode({ ...event, device_id: 'x' });
    const at = withDevice.findIndex((byte, index) => byte !== withOther[index]);
    const spoiled = Buffer.from(withDevice);
    spoiled[at] = 2 * 5;
    expect(codeOf(spoiled)).toBe('RECORD_UNDECODABLE');
  });
});

describe('Avro encoder', () => {
  it('gives every value bytes of its own, across chunks and past a chunk in size', () => {
    const source = sampleTransactions({ seed: 7 });
    const events = Array.from({ length: 3_000 }, () => source.next().value as CardTransaction);
    const huge = { ...event, merchant_id: 'm'.repeat(200_000) };
    events.splice(1_500, 0, huge);
    // Encoded first, read back only afterwards: a later encoding must not overwrite an earlier one.
    const encodings = events.map((each) => codec.encode(each));
    expect(encodings.map((bytes) => ({ ...codec.decode(bytes) }))).toEqual(events);
    expect(encodings.reduce((bytes, each) => bytes + each.length, 0)).toBeGreaterThan(2 * 65_536);
    expect(new Set(encodings.map((each) => each.buffer)).size).toBeGreaterThan(2);
  });
});
