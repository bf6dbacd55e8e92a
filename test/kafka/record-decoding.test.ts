/**
 * streamscore patches how kafkajs decodes fetched records (scripts/patch-kafkajs-decoding.mjs): records read
 * in place, offsets and timestamps added as numbers when they fit. The installed files must be the patched
 * ones, and decode every batch exactly as kafkajs's originals do, which this test rebuilds from the
 * installed files by undoing each edit: offsets and timestamps past 2^53, long varints, LogAppendTime,
 * headers, compressed batches, and a record whose length runs past its batch.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { DECODING_PATCHES } from '../../scripts/patch-kafkajs-decoding.mjs';
import { firstLineOf, loadOriginal, patchMarker } from './support/kafkajs-original.js';

const require = createRequire(import.meta.url);

type Headers = Record<string, string | Buffer | (string | Buffer)[]>;
interface RecordFields {
  key?: string | Buffer | null;
  value?: string | Buffer | null;
  headers?: Headers;
  offsetDelta: number;
  timestampDelta: number | bigint;
}
interface BatchFields {
  firstOffset: bigint;
  firstTimestamp: bigint;
  maxTimestamp: bigint;
  lastOffsetDelta: number;
  records: readonly RecordFields[];
  compression?: number;
}
interface DecoderInstance {
  offset: number;
}
type BatchDecoder = (decoder: DecoderInstance) => Promise<{ records: unknown[] }>;
type BatchClass = new (
  topic: string,
  fetchedOffset: string,
  partitionData: { partition: number; highWatermark: string; messages: { offset: string }[] },
) => { messagesWithinOffset: { offset: string }[] };

const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => DecoderInstance;
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (fields: RecordFields) => unknown;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch: (fields: BatchFields) => Promise<{ buffer: Buffer }>;
};
const GZIP = (require('kafkajs') as { CompressionTypes: { GZIP: number } }).CompressionTypes.GZIP;

const patchOf = (file: string) => DECODING_PATCHES.find((patch) => patch.file === file)!;
const loadOriginalOf = (file: string, dependencies?: Record<string, unknown>) =>
  loadOriginal(patchOf(file), dependencies);

const patchedBatchDecoder = require('kafkajs/src/protocol/recordBatch/v0/decoder') as BatchDecoder;
const originalBatchDecoder = loadOriginalOf('src/protocol/recordBatch/v0/decoder.js', {
  '../record/v0/decoder': loadOriginalOf('src/protocol/recordBatch/record/v0/decoder.js'),
}) as BatchDecoder;

/** The attributes' timestamp-type bit: firstOffset, length, leader epoch, magic and CRC come before them. */
const TIMESTAMP_TYPE_BYTE = 8 + 4 + 4 + 1 + 4 + 1;
const LOG_APPEND_TIME = 0x08;

async function encodeBatch(fields: Omit<BatchFields, 'records'>, records: readonly RecordFields[]) {
  const { buffer } = await RecordBatch({ ...fields, records: records.map(Record) as RecordFields[] });
  return buffer;
}

/** What each decoder makes of the bytes: the decoded batch, or the kind of error it throws. */
async function decodeWith(decode: BatchDecoder, bytes: Buffer): Promise<unknown> {
  try {
    return await decode(new Decoder(Buffer.from(bytes)));
  } catch (error) {
    return { threw: (error as Error).constructor.name };
  }
}

async function expectSameAsOriginal(bytes: Buffer): Promise<unknown> {
  const patched = await decodeWith(patchedBatchDecoder, bytes);
  expect(patched).toEqual(await decodeWith(originalBatchDecoder, bytes));
  return patched;
}

const header = (base: Partial<Omit<BatchFields, 'records'>> = {}) => ({
  firstOffset: 41n,
  firstTimestamp: 1_764_700_000_000n,
  maxTimestamp: 1_764_700_000_900n,
  lastOffsetDelta: 0,
  ...base,
});

const record = (offsetDelta: number, timestampDelta: number | bigint, more: Partial<RecordFields> = {}) => ({
  key: Buffer.from(`key-${offsetDelta}`),
  value: Buffer.alloc(40, offsetDelta),
  offsetDelta,
  timestampDelta,
  ...more,
});

describe('kafkajs record decoding, as installed', () => {
  it.each(DECODING_PATCHES.map(({ name, file }) => [name, file]))('%s is the patched file', (name, file) => {
    expect(firstLineOf(file)).toBe(patchMarker(name));
  });

  const deltas = [0, 1, -1, 63, -64, 8_192, 2 ** 30, -(2 ** 35), 2 ** 48 - 1, -(2 ** 48), 2 ** 48, 2n ** 60n];
  it('decodes timestamp deltas of every varint width as the original does', async () => {
    const records = deltas.map((delta, index) => record(index, delta));
    const decoded = (await expectSameAsOriginal(await encodeBatch(header(), records))) as {
      records: { timestamp: string; offset: string }[];
    };
    expect(decoded.records.map(({ timestamp }) => timestamp)).toEqual(
      deltas.map((delta) => String(1_764_700_000_000n + BigInt(delta))),
    );
    expect(decoded.records.map(({ offset }) => offset)).toEqual(deltas.map((_, index) => String(41 + index)));
  });

  it('adds offsets and timestamps beyond 2^53 exactly, through the original 64-bit path', async () => {
    const beyond = 2n ** 53n - 2n;
    const bytes = await encodeBatch(header({ firstOffset: beyond, firstTimestamp: beyond }), [
      record(0, 0),
      record(1, 1),
      record(5, 9),
    ]);
    const decoded = (await expectSameAsOriginal(bytes)) as {
      records: { timestamp: string; offset: string }[];
    };
    expect(decoded.records.map(({ offset }) => offset)).toEqual(
      [0n, 1n, 5n].map((delta) => String(beyond + delta)),
    );
    expect(decoded.records.at(-1)?.timestamp).toBe(String(beyond + 9n));
  });

  it('gives every record the batch maximum under LogAppendTime, and -1 timestamps as they are', async () => {
    const appended = await encodeBatch(header(), [record(0, 3), record(1, 7)]);
    appended[TIMESTAMP_TYPE_BYTE]! |= LOG_APPEND_TIME;
    const decoded = (await expectSameAsOriginal(appended)) as { records: { timestamp: string }[] };
    expect(decoded.records.map(({ timestamp }) => timestamp)).toEqual(['1764700000900', '1764700000900']);
    await expectSameAsOriginal(await encodeBatch(header({ firstTimestamp: -1n }), [record(0, 0)]));
  });

  it('decodes null keys and values and headers, a repeated name and __proto__ among them', async () => {
    const headers: Headers = {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      'x-many': ['one', Buffer.from([0, 1, 2])],
      ['__proto__']: 'an own header, not a prototype',
    };
    const decoded = (await expectSameAsOriginal(
      await encodeBatch(header(), [
        record(0, 0, { key: null, headers }),
        record(1, 1, { value: null }),
        record(2, 2),
      ]),
    )) as { records: { headers: Record<string, unknown> }[] };
    const first = decoded.records[0]!.headers;
    expect(Object.getPrototypeOf(first)).toBe(Object.prototype);
    expect(Object.keys(first)).toEqual(['traceparent', 'x-many', '__proto__']);
    expect(decoded.records[2]!.headers).toEqual({});
  });

  it('decodes a compressed batch as the original does', async () => {
    const records = Array.from({ length: 50 }, (_, index) => record(index, index * 3));
    const decoded = (await expectSameAsOriginal(
      await encodeBatch({ ...header(), compression: GZIP }, records),
    )) as { records: unknown[] };
    expect(decoded.records).toHaveLength(50);
  });

  it('fails, or not, as the original does on a record whose length runs past its batch', async () => {
    const bytes = await encodeBatch(header(), [record(0, 0), record(1, 1)]);
    // Before the key: the record's length, attributes, two deltas and the key's length, a byte each.
    const secondLength = bytes.indexOf(Buffer.from('key-1')) - 5;
    for (const length of [0x7e, 0x01]) {
      const corrupt = Buffer.from(bytes);
      corrupt[secondLength] = length;
      await expectSameAsOriginal(corrupt);
    }
  });

  it('keeps the records at or after the fetched offset, beyond 2^53 too', () => {
    const PatchedBatch = require('kafkajs/src/consumer/batch') as BatchClass;
    const OriginalBatch = loadOriginalOf('src/consumer/batch.js') as BatchClass;
    const cases: [string, string[]][] = [
      ['10', ['8', '9', '10', '11']],
      ['9007199254740993', ['9007199254740992', '9007199254740993', '9007199254740994']],
      ['9007199254740990', ['9007199254740989', '9007199254740991', '9007199254740993']],
    ];
    for (const [fetchedOffset, offsets] of cases) {
      const partitionData = {
        partition: 0,
        highWatermark: '0',
        messages: offsets.map((offset) => ({ offset })),
      };
      const kept = new PatchedBatch('t', fetchedOffset, partitionData).messagesWithinOffset;
      expect(kept).toEqual(new OriginalBatch('t', fetchedOffset, partitionData).messagesWithinOffset);
      expect(kept.map(({ offset }) => offset)).toEqual(
        offsets.filter((o) => BigInt(o) >= BigInt(fetchedOffset)),
      );
    }
  });
});
