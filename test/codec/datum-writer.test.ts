import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { DatumWriter, encodedDouble, encodedLong, encodedString } from '../../src/codec/index.js';

const longType = avro.Type.forSchema('long');
const stringType = avro.Type.forSchema('string');
const doubleType = avro.Type.forSchema('double');

const LONGS = [
  0,
  1,
  -1,
  63,
  -64,
  64,
  -65,
  8_191,
  2 ** 30 - 1,
  -(2 ** 30),
  2 ** 30,
  -(2 ** 30) - 1,
  2 ** 31,
  -(2 ** 31),
  2 ** 32 + 7,
  1_764_000_000_000,
  -1_764_000_000_000,
  2 ** 52,
  -(2 ** 52),
];
const STRINGS = ['', 'a', 'event-0001', 'é', '支付-🙂', 'x'.repeat(64), 'y'.repeat(65), `${'z'.repeat(63)}é`];

describe('Avro written field by field', () => {
  it('writes longs, strings and doubles as avsc does', () => {
    for (const value of LONGS) expect(encodedLong(value), String(value)).toEqual(longType.toBuffer(value));
    for (const value of STRINGS) expect(encodedString(value), value).toEqual(stringType.toBuffer(value));
    for (const value of [0, -0.5, Math.PI, 1e300, Number.NaN])
      expect(encodedDouble(value)).toEqual(doubleType.toBuffer(value));
  });

  it('frames each datum with the prefix, in views that later datums never overwrite', () => {
    const prefix = Buffer.from([0, 0, 0, 0, 42]);
    const writer = new DatumWriter(prefix);
    const record = avro.Type.forSchema({
      type: 'record',
      name: 'Pair',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'n', type: 'long' },
      ],
    });
    const written: Buffer[] = [];
    // Enough datums to fill several 64 KiB chunks.
    for (let index = 0; index < 5_000; index++) {
      const id = index % 3 === 0 ? `é-${index}` : `id-${index}`.repeat(1 + (index % 5));
      writer.begin(10 + 3 * id.length + 10);
      writer.string(id);
      writer.long(index * 1_000_003 - 2 ** 33);
      written.push(writer.end());
    }
    written.forEach((datum, index) => {
      expect(datum.subarray(0, prefix.length)).toEqual(prefix);
      expect(record.fromBuffer(datum.subarray(prefix.length))).toMatchObject({
        n: index * 1_000_003 - 2 ** 33,
      });
    });
  });
});
