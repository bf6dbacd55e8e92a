/**
 * Records that cannot be scored, for the dead-letter tests: a corpus of named kinds, each a valid encoded
 * card transaction spoiled in one specific way with the error code the service must give it, and a seeded
 * fuzzer whose outcomes are not known in advance but computed by the same decode and feature extraction
 * the service runs (an oracle built from src/'s public APIs).
 *
 * The expected codes are what src/codec and src/features say today; malformed-corpus.test.ts proves each
 * one, so a change of classification shows up there first, kind by kind.
 */
import type avro from 'avsc';
import { createAvroCodec, loadAvroSchema } from '../../src/codec/index.js';
import { packagePath } from '../../src/config/index.js';
import { type ErrorCode, isBadRecord } from '../../src/errors/index.js';
import { compileFeatureExtractor, type DecodedRecord } from '../../src/features/index.js';
import { readManifest } from '../../src/models/index.js';
import type { Prediction } from '../../src/routing/index.js';
import { type CardTransaction, type Random, seededRandom } from '../../src/sample/index.js';
import { eventCodec } from './codecs.js';

/** The codes a record can be dead-lettered with. */
export type BadRecordCode = Extract<
  ErrorCode,
  | 'RECORD_EMPTY'
  | 'RECORD_TRUNCATED'
  | 'RECORD_TRAILING_BYTES'
  | 'RECORD_UNDECODABLE'
  | 'FEATURE_MISSING'
  | 'FEATURE_NOT_FINITE'
  | 'FEATURE_WRONG_TYPE'
>;

/** What the service must do with a record: publish a prediction, or dead-letter it with a code. */
export type Outcome = 'scored' | BadRecordCode;

export interface MalformedKind {
  name: string;
  value: Buffer | null;
  code: BadRecordCode;
}

export interface OddButValid {
  name: string;
  value: Buffer;
}

// ------------------------------------------------------------------------------------ Avro byte level

/** Avro's zig-zag varint of any integer, including those beyond 2^53 that JavaScript numbers cannot hold. */
export function avroLong(value: bigint): Buffer {
  let zigzag = value >= 0n ? value << 1n : ((-value - 1n) << 1n) | 1n;
  const bytes: number[] = [];
  do {
    let byte = Number(zigzag & 0x7fn);
    zigzag >>= 7n;
    if (zigzag > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (zigzag > 0n);
  return Buffer.from(bytes);
}

interface FieldSpan {
  start: number;
  end: number;
}

/** Where each field of an encoded event starts and ends: the fields are written one after another. */
function fieldSpans(event: CardTransaction): Map<keyof CardTransaction, FieldSpan> {
  const fields = (eventCodec.type as avro.types.RecordType).fields;
  const spans = new Map<keyof CardTransaction, FieldSpan>();
  let offset = 0;
  for (const field of fields) {
    const name = field.name as keyof CardTransaction;
    const length = field.type.toBuffer(event[name]).length;
    spans.set(name, { start: offset, end: offset + length });
    offset += length;
  }
  return spans;
}

/** The encoding of `event` with one field's bytes replaced by `bytes`. */
function withFieldBytes(event: CardTransaction, field: keyof CardTransaction, bytes: Buffer): Buffer {
  const encoded = eventCodec.encode(event);
  const span = fieldSpans(event).get(field)!;
  return Buffer.concat([encoded.subarray(0, span.start), bytes, encoded.subarray(span.end)]);
}

function cut(event: CardTransaction, length: number): Buffer {
  return Buffer.from(eventCodec.encode(event).subarray(0, length));
}

function span(event: CardTransaction, field: keyof CardTransaction): FieldSpan {
  return fieldSpans(event).get(field)!;
}

// ------------------------------------------------------------------------------------------- corpus

/**
 * A valid event that exercises every field: both union branches present, a multi-byte amount varint.
 * Spoiling it field by field gives the corpus; the base itself must be scored.
 */
export function corpusBase(event: CardTransaction): CardTransaction {
  return {
    ...event,
    channel: 'ECOMMERCE',
    device_id: event.device_id ?? 'dev-0123456789ab',
    ip_address: event.ip_address ?? '198.51.100.7',
    latitude: event.latitude ?? 48.85,
    longitude: event.longitude ?? 2.35,
    amount_minor: 3_989,
  };
}

/** At least 25 distinct ways a record can be bad, each with the code the service must give it. */
export function malformedCorpus(event: CardTransaction): MalformedKind[] {
  const base = corpusBase(event);
  const encoded = eventCodec.encode(base);
  const other = eventCodec.encode({ ...base, event_id: `${base.event_id}-other` });
  const elevenContinuationBytes = Buffer.concat([Buffer.alloc(11, 0xff), Buffer.from([0x01])]);
  const predictionCodec = createAvroCodec<Prediction>(loadAvroSchema(packagePath('schemas/prediction.avsc')));

  return [
    // Nothing to decode.
    { name: 'null value (a tombstone)', value: null, code: 'RECORD_EMPTY' },
    { name: 'zero-length value', value: Buffer.alloc(0), code: 'RECORD_EMPTY' },

    // Cut short, at each kind of place a datum can end early.
    { name: 'a single byte', value: cut(base, 1), code: 'RECORD_TRUNCATED' },
    {
      name: 'cut inside the event_id string',
      value: cut(base, span(base, 'event_id').start + 10),
      code: 'RECORD_TRUNCATED',
    },
    {
      name: 'cut at a field boundary (after card_number)',
      value: cut(base, span(base, 'card_number').end),
      code: 'RECORD_TRUNCATED',
    },
    {
      name: 'cut inside the multi-byte amount_minor varint',
      value: cut(base, span(base, 'amount_minor').start + 1),
      code: 'RECORD_TRUNCATED',
    },
    {
      name: 'cut after the channel enum',
      value: cut(base, span(base, 'channel').end),
      code: 'RECORD_TRUNCATED',
    },
    {
      name: 'cut after a union branch index (device_id string missing)',
      value: cut(base, span(base, 'device_id').start + 1),
      code: 'RECORD_TRUNCATED',
    },
    {
      name: 'cut inside the latitude double',
      value: cut(base, span(base, 'latitude').start + 1 + 4),
      code: 'RECORD_TRUNCATED',
    },
    {
      name: 'last byte missing (inside event_time)',
      value: cut(base, encoded.length - 1),
      code: 'RECORD_TRUNCATED',
    },

    // Lengths that run past the end of the value.
    {
      name: 'card_number length 2^31',
      value: withFieldBytes(
        base,
        'card_number',
        Buffer.concat([avroLong(2n ** 31n), Buffer.from(base.card_number)]),
      ),
      code: 'RECORD_TRUNCATED',
    },
    {
      name: 'event_id length one past the end of the value',
      value: Buffer.concat([
        avroLong(BigInt(encoded.length)),
        encoded.subarray(span(base, 'event_id').start + 1),
      ]),
      code: 'RECORD_TRUNCATED',
    },
    {
      name: 'merchant_id length as a varint of 11 continuation bytes',
      value: withFieldBytes(
        base,
        'merchant_id',
        Buffer.concat([elevenContinuationBytes, Buffer.from('m-1')]),
      ),
      code: 'RECORD_TRUNCATED',
    },
    // avsc does not throw on a negative length: it marks the read invalid, which the codec cannot tell
    // from running off the end, so this is reported as truncated.
    {
      name: 'negative event_id length',
      value: withFieldBytes(base, 'event_id', Buffer.concat([avroLong(-5n), Buffer.from(base.event_id)])),
      code: 'RECORD_TRUNCATED',
    },
    {
      name: 'negative ip_address length',
      value: withFieldBytes(base, 'ip_address', Buffer.concat([avroLong(1n), avroLong(-1n)])),
      code: 'RECORD_TRUNCATED',
    },

    // A whole datum, then more.
    {
      name: 'one trailing zero byte',
      value: Buffer.concat([encoded, Buffer.from([0])]),
      code: 'RECORD_TRAILING_BYTES',
    },
    {
      name: 'trailing garbage',
      value: Buffer.concat([encoded, Buffer.from('deadbeefcafe', 'hex')]),
      code: 'RECORD_TRAILING_BYTES',
    },
    {
      name: 'two events in one value',
      value: Buffer.concat([encoded, other]),
      code: 'RECORD_TRAILING_BYTES',
    },
    // Zeros decode as empty strings, 0, POS and nulls: a complete datum after 15 bytes.
    { name: '200 zero bytes', value: Buffer.alloc(200, 0), code: 'RECORD_TRAILING_BYTES' },

    // Indexes outside the schema.
    ...(['device_id', 'ip_address', 'latitude', 'longitude'] as const).map(
      (field): MalformedKind => ({
        name: `union branch 2 on ${field} (only null and one type exist)`,
        value: withFieldBytes(base, field, Buffer.concat([avroLong(2n), Buffer.alloc(8, 0x41)])),
        code: 'RECORD_UNDECODABLE',
      }),
    ),
    {
      name: 'negative union branch on device_id',
      value: withFieldBytes(base, 'device_id', avroLong(-1n)),
      code: 'RECORD_UNDECODABLE',
    },
    {
      name: 'channel enum index 5 (one past the last symbol)',
      value: withFieldBytes(base, 'channel', avroLong(5n)),
      code: 'RECORD_UNDECODABLE',
    },
    {
      name: 'channel enum index -1',
      value: withFieldBytes(base, 'channel', avroLong(-1n)),
      code: 'RECORD_UNDECODABLE',
    },
    // The first length's varint never ends; avsc reads past the end and Node's Buffer throws a RangeError,
    // so this one is undecodable rather than truncated.
    { name: 'every byte 0xff', value: Buffer.alloc(160, 0xff), code: 'RECORD_UNDECODABLE' },

    // Longs JavaScript cannot hold exactly: avsc refuses them rather than lose precision.
    {
      name: 'amount_minor of 2^60',
      value: withFieldBytes(base, 'amount_minor', avroLong(2n ** 60n)),
      code: 'RECORD_UNDECODABLE',
    },
    {
      name: 'event_time of 2^62',
      value: withFieldBytes(base, 'event_time', avroLong(2n ** 62n)),
      code: 'RECORD_UNDECODABLE',
    },
    {
      name: 'amount_minor as a varint of 11 continuation bytes',
      value: withFieldBytes(base, 'amount_minor', elevenContinuationBytes),
      code: 'RECORD_UNDECODABLE',
    },

    // Other formats on the topic.
    { name: 'the event as JSON text', value: Buffer.from(JSON.stringify(base)), code: 'RECORD_TRUNCATED' },
    {
      // Not recognised as a framing: the magic byte and the schema id's three zero bytes read as four empty
      // strings, 42 as a 21-byte merchant_id that swallows the datum's start, and from there the lengths are
      // whatever the event's text says, running off the end. (Other ids can end as RECORD_UNDECODABLE
      // instead, when a misread byte lands on the enum; never as a scored record.)
      name: 'Confluent wire format (magic byte 0, schema id 42, datum)',
      value: Buffer.concat([Buffer.from([0, 0, 0, 0, 42]), encoded]),
      code: 'RECORD_TRUNCATED',
    },
    {
      name: 'a prediction (another schema) fed back as input',
      value: predictionCodec.encode({
        event_id: base.event_id,
        model_name: 'fraud-gbm',
        model_version: '1',
        score: 0.5,
        label: 'fraud',
        threshold: 0.11,
        variant: 'primary',
        event_time: base.event_time,
        scored_time: base.event_time + 5,
        latency_ms: 1.5,
      }),
      // The prediction's strings read as the event's first strings; its score's bytes land on the enum.
      code: 'RECORD_UNDECODABLE',
    },
    {
      name: 'gzip-compressed event',
      value: Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), encoded]),
      code: 'RECORD_TRUNCATED',
    },

    // Decodes, but the model cannot take it: log1p(amount / 100) is not a finite number.
    {
      name: 'amount_minor -101 (log1p of less than -1 is NaN)',
      value: eventCodec.encode({ ...base, amount_minor: -101 }),
      code: 'FEATURE_NOT_FINITE',
    },
    {
      name: 'amount_minor -100 (log1p(-1) is -Infinity)',
      value: eventCodec.encode({ ...base, amount_minor: -100 }),
      code: 'FEATURE_NOT_FINITE',
    },
    {
      name: 'amount_minor of -2^52',
      value: eventCodec.encode({ ...base, amount_minor: -(2 ** 52) }),
      code: 'FEATURE_NOT_FINITE',
    },
  ];
}

/** Records that look wrong but are valid: the service must score them, not dead-letter them. */
export function oddButValid(event: CardTransaction): OddButValid[] {
  const base = corpusBase(event);
  return [
    { name: 'the corpus base itself', value: eventCodec.encode(base) },
    // avsc decodes invalid UTF-8 into replacement characters; the record is still one datum.
    {
      name: 'invalid UTF-8 in merchant_id',
      value: withFieldBytes(
        base,
        'merchant_id',
        Buffer.concat([avroLong(4n), Buffer.from([0xc3, 0x28, 0xff, 0xfe])]),
      ),
    },
    { name: 'latitude NaN', value: eventCodec.encode({ ...base, latitude: Number.NaN }) },
    {
      name: 'every optional field null',
      value: eventCodec.encode({
        ...base,
        device_id: null,
        ip_address: null,
        latitude: null,
        longitude: null,
      }),
    },
    {
      name: 'empty strings everywhere',
      value: eventCodec.encode({
        ...base,
        event_id: '',
        account_id: '',
        card_number: '',
        card_country: '',
        merchant_id: '',
        merchant_category: '',
        currency: '',
        country: '',
      }),
    },
    {
      name: 'amount_minor -99 (log1p stays finite)',
      value: eventCodec.encode({ ...base, amount_minor: -99 }),
    },
    { name: 'amount_minor 0', value: eventCodec.encode({ ...base, amount_minor: 0 }) },
    { name: 'amount_minor of 2^52', value: eventCodec.encode({ ...base, amount_minor: 2 ** 52 }) },
    { name: 'event_time before 1970', value: eventCodec.encode({ ...base, event_time: -86_400_000 - 1 }) },
    // 3989 written in three bytes instead of two: non-minimal, but a valid varint.
    {
      name: 'amount_minor as a non-minimal varint',
      value: withFieldBytes(base, 'amount_minor', Buffer.from([0xaa | 0x80, 0x3e | 0x80, 0x00])),
    },
  ];
}

// ------------------------------------------------------------------------------------------- oracle

/**
 * What the service must do with a value, computed by the same public decode and feature extraction it runs
 * (against the sample model's manifest), never by guessing: the fuzzer's answer key.
 */
export async function outcomeOracle(
  modelDirectory = packagePath('models/fraud-gbm/1'),
): Promise<(value: Buffer | null) => Outcome> {
  const manifest = await readManifest(modelDirectory);
  const features = compileFeatureExtractor(manifest.features, eventCodec.type);
  const row = new Float32Array(features.width);
  return (value) => {
    try {
      features.extractInto(eventCodec.decode(value) as unknown as DecodedRecord, row, 0);
      return 'scored';
    } catch (error) {
      if (isBadRecord(error)) return error.code as BadRecordCode;
      throw error;
    }
  };
}

// ------------------------------------------------------------------------------------------- fuzzer

type Mutation = (value: Buffer, random: Random, donors: readonly Buffer[]) => Buffer;

const INTERESTING_BYTES = [0x00, 0x01, 0x02, 0x7f, 0x80, 0xfe, 0xff];

const mutations: readonly Mutation[] = [
  function flipBits(value, random) {
    const copy = Buffer.from(value);
    for (let flips = 1 + random.int(3); flips > 0 && copy.length > 0; flips--) {
      const position = random.int(copy.length);
      copy[position] = copy[position]! ^ (1 << random.int(8));
    }
    return copy;
  },
  function setInterestingByte(value, random) {
    const copy = Buffer.from(value);
    if (copy.length > 0) copy[random.int(copy.length)] = random.pick(INTERESTING_BYTES);
    return copy;
  },
  function truncate(value, random) {
    return Buffer.from(value.subarray(0, random.int(value.length)));
  },
  function insertBytes(value, random) {
    const position = random.int(value.length + 1);
    const inserted = Buffer.from(Array.from({ length: 1 + random.int(8) }, () => random.int(256)));
    return Buffer.concat([value.subarray(0, position), inserted, value.subarray(position)]);
  },
  function deleteRange(value, random) {
    const start = random.int(value.length + 1);
    return Buffer.concat([value.subarray(0, start), value.subarray(start + 1 + random.int(8))]);
  },
  function splice(value, random, donors) {
    const donor = random.pick(donors);
    return Buffer.concat([
      value.subarray(0, random.int(value.length + 1)),
      donor.subarray(random.int(donor.length + 1)),
    ]);
  },
  function duplicateRange(value, random) {
    const start = random.int(value.length + 1);
    const end = Math.min(value.length, start + 1 + random.int(16));
    return Buffer.concat([value.subarray(0, end), value.subarray(start, end), value.subarray(end)]);
  },
];

/**
 * An endless, seeded stream of mutated records: each a valid encoded event with one to three random
 * mutations (bit flips, interesting bytes, truncation, insertion, deletion, splicing with another event,
 * duplicated ranges). The same seed gives the same stream.
 */
export function* fuzzedRecords(seed: number, valid: readonly Buffer[]): Generator<Buffer> {
  const random = seededRandom(seed);
  for (;;) {
    let value = random.pick(valid);
    for (let count = 1 + random.int(3); count > 0; count--)
      value = random.pick(mutations)(value, random, valid);
    yield value;
  }
}
