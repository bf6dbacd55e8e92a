/**
 * streamscore patches kafkajs's record encoding at install (scripts/patch-kafkajs.mjs): one encoder sized
 * to the record, varints written in place, small 64-bit varints written as 32-bit ones, buffers not
 * zero-filled. What the patched code writes must read back, through kafkajs's decoders, as exactly what
 * was given, at every varint width and on the 64-bit path the patch leaves to Long. (The record decoder is
 * patched too; record-decoding.test.ts holds it to the original.)
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const PATCHED = {
  'records written in place': 'kafkajs/src/protocol/recordBatch/record/v0/index.js',
  'encoder buffers and varints': 'kafkajs/src/protocol/encoder.js',
};

interface EncoderInstance {
  buffer: Buffer;
  writeVarInt(value: number): EncoderInstance;
  writeVarLong(value: number | bigint): EncoderInstance;
}
interface DecoderInstance {
  readVarInt(): number;
  readVarLong(): { toString(): string };
  readVarIntBytes(): Buffer;
  canReadBytes(length: number): boolean;
}
type Headers = Record<string, string | Buffer | (string | Buffer)[]>;
interface RecordFields {
  key?: string | Buffer | null;
  value?: string | Buffer | null;
  headers?: Headers;
  offsetDelta?: number;
  timestampDelta?: number;
}
interface DecodedRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | Buffer[]>;
  offset: string;
  timestamp: string;
}

const Encoder = require('kafkajs/src/protocol/encoder') as new () => EncoderInstance;
const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => DecoderInstance;
const Record = require(PATCHED['records written in place']) as (fields: RecordFields) => EncoderInstance;
const decodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/decoder') as (
  decoder: DecoderInstance,
  context: { firstOffset: string; firstTimestamp: string; magicByte: number },
) => DecodedRecord;

const FIRST_TIMESTAMP = 1_764_700_000_000;

function roundTrip(fields: RecordFields): DecodedRecord {
  const outer = new Decoder(Record(fields).buffer);
  const body = outer.readVarIntBytes();
  expect(outer.canReadBytes(1)).toBe(false);
  return decodeRecord(new Decoder(body), {
    firstOffset: '100',
    firstTimestamp: String(FIRST_TIMESTAMP),
    magicByte: 2,
  });
}

const asBuffer = (value: string | Buffer) => (Buffer.isBuffer(value) ? value : Buffer.from(value));

describe('kafkajs record encoding, as installed', () => {
  it.each(Object.entries(PATCHED))('%s is the patched file', (name, file) => {
    expect(readFileSync(require.resolve(file), 'utf8').split('\n')[0]).toBe(
      `// streamscore: ${name} (scripts/patch-kafkajs.mjs)`,
    );
  });

  const deltas = [
    0,
    1,
    63,
    64,
    8_191,
    8_192,
    -1,
    -65,
    2 ** 30 - 1,
    -(2 ** 30),
    2 ** 30,
    -(2 ** 30) - 1,
    2 ** 40,
  ];
  it.each(deltas)('reads back a timestamp delta of %d and the record around it', (timestampDelta) => {
    const decoded = roundTrip({
      key: Buffer.from('account-1'),
      value: Buffer.alloc(300, 7),
      offsetDelta: 70_000,
      timestampDelta,
    });
    expect(decoded.timestamp).toBe(String(FIRST_TIMESTAMP + timestampDelta));
    expect(decoded.offset).toBe('70100');
    expect(decoded.key).toEqual(Buffer.from('account-1'));
    expect(decoded.value).toEqual(Buffer.alloc(300, 7));
    expect(decoded.headers).toEqual({});
  });

  it('reads back null and string keys and values, and headers with one value or several', () => {
    const headers: Headers = {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      'x-empty': '',
      'x-many': ['one', Buffer.from([0, 1, 2])],
      'x-ünïcode': 'välue',
    };
    const decoded = roundTrip({ key: null, value: 'a string value', headers });
    expect(decoded.key).toBeNull();
    expect(decoded.value).toEqual(Buffer.from('a string value'));
    expect(Object.keys(decoded.headers)).toEqual(Object.keys(headers));
    for (const [name, value] of Object.entries(headers)) {
      expect(decoded.headers[name]).toEqual(Array.isArray(value) ? value.map(asBuffer) : asBuffer(value));
    }
    expect(roundTrip({ key: 'k', value: null }).value).toBeNull();
  });

  it('writes 32- and 64-bit varints that kafkajs reads back, at every width', () => {
    const ints = [0, 1, -1, 63, -64, 64, 8_191, 8_192, 2 ** 20, 2 ** 27, 2 ** 30, 2 ** 31 - 1, -(2 ** 31)];
    const longs = [
      ...ints,
      2 ** 30 - 1,
      -(2 ** 30),
      -(2 ** 30) - 1,
      2 ** 35,
      -(2 ** 45),
      Number.MAX_SAFE_INTEGER,
    ];
    const encoder = new Encoder();
    for (const value of ints) encoder.writeVarInt(value);
    for (const value of longs) encoder.writeVarLong(value);
    const decoder = new Decoder(encoder.buffer);
    expect(ints.map(() => decoder.readVarInt())).toEqual(ints);
    expect(longs.map(() => decoder.readVarLong().toString())).toEqual(longs.map(String));
    expect(decoder.canReadBytes(1)).toBe(false);
  });
});
