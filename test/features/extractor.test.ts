import { describe, expect, it } from 'vitest';
import { createAvroCodec, loadAvroSchema } from '../../src/codec/index.js';
import { packagePath } from '../../src/config/index.js';
import { BadRecordError, ConfigurationError } from '../../src/errors/index.js';
import { compileFeatureExtractor, type DecodedRecord } from '../../src/features/index.js';
import { type FeatureSpec, readManifest } from '../../src/models/index.js';
import { readGolden } from '../support/golden.js';

const inputType = loadAvroSchema(packagePath('schemas/card-transaction.avsc'));
const manifest = await readManifest(packagePath('models/fraud-gbm/1'));

function extractOne(specs: FeatureSpec[], record: DecodedRecord): number[] {
  const extractor = compileFeatureExtractor(specs, inputType);
  const out = new Float32Array(extractor.width);
  extractor.extractInto(record, out, 0);
  return [...out];
}

describe('feature extraction', () => {
  it('reproduces the feature rows Python computed for every golden event, after an Avro round trip', () => {
    const codec = createAvroCodec<DecodedRecord>(inputType);
    const extractor = compileFeatureExtractor(manifest.features, inputType);
    const golden = readGolden();
    const out = new Float32Array(golden.length * extractor.width);
    for (const [index, row] of golden.entries()) {
      extractor.extractInto(codec.decode(codec.encode(row.event)), out, index);
    }
    golden.forEach((row, index) => {
      const ours = [...out.subarray(index * extractor.width, (index + 1) * extractor.width)];
      expect(ours).toEqual(row.features.map((value) => Math.fround(value)));
    });
  });

  it('keeps the float64 features Python computed for a float64 model, bit for bit', async () => {
    const float64Manifest = await readManifest(packagePath('test/fixtures/models/fraud-hgb/1'));
    expect(float64Manifest.inputs[0]!.type).toBe('float64');
    const extractor = compileFeatureExtractor(float64Manifest.features, inputType, 'float64');
    const golden = readGolden('test/fixtures/models/fraud-hgb/1');
    const out = extractor.allocateRows(golden.length);
    expect(out).toBeInstanceOf(Float64Array);
    const codec = createAvroCodec<DecodedRecord>(inputType);
    for (const [index, row] of golden.entries())
      extractor.extractInto(codec.decode(codec.encode(row.event)), out, index);
    expect([...out]).toEqual(golden.flatMap((row) => row.features));
    // The same events' float32 rows lose bits: a float64 model needs them kept.
    const rounded = compileFeatureExtractor(float64Manifest.features, inputType).allocateRows(golden.length);
    expect(rounded).toBeInstanceOf(Float32Array);
    expect(golden.some((row) => row.features.some((value) => Math.fround(value) !== value))).toBe(true);
  });

  it('writes each row at its own offset', () => {
    const [first, second] = readGolden();
    const extractor = compileFeatureExtractor(manifest.features, inputType);
    const out = new Float32Array(extractor.width * 3).fill(-1);
    extractor.extractInto(second!.event, out, 2);
    extractor.extractInto(first!.event, out, 0);
    expect([...out.subarray(0, extractor.width)]).toEqual(first!.features.map(Math.fround));
    expect([...out.subarray(extractor.width, 2 * extractor.width)].every((v) => v === -1)).toBe(true);
    expect([...out.subarray(2 * extractor.width)]).toEqual(second!.features.map(Math.fround));
  });

  it('applies each transform as the manifest format documents', () => {
    const record = {
      amount_minor: 12_345,
      channel: 'MOTO',
      country: 'FR',
      card_country: 'FR',
      device_id: null,
      event_time: Date.UTC(2026, 0, 1, 23, 59),
    };
    expect(
      extractOne(
        [
          { name: 'a', field: 'amount_minor', transforms: [{ op: 'scale', factor: 0.01 }, { op: 'log1p' }] },
          { name: 'b', field: 'amount_minor', transforms: [{ op: 'clip', min: 0, max: 100 }] },
          { name: 'c', field: 'channel', transforms: [{ op: 'equals', value: 'MOTO' }] },
          { name: 'd', field: 'channel', transforms: [{ op: 'in_set', values: ['POS', 'ATM'] }] },
          { name: 'e', field: 'country', transforms: [{ op: 'differs_from_field', field: 'card_country' }] },
          { name: 'f', field: 'device_id', transforms: [{ op: 'is_null' }] },
          { name: 'g', field: 'event_time', transforms: [{ op: 'hour_of_day_utc' }] },
          { name: 'h', field: 'device_id', default: 7, transforms: [] },
        ],
        record,
      ),
    ).toEqual([Math.fround(Math.log1p(123.45)), 100, 1, 0, 0, 1, 23, 7]);
  });

  it('refuses a record whose feature is missing, non-finite or of the wrong type, with the code', () => {
    const codeOf = (specs: FeatureSpec[], record: DecodedRecord) => {
      try {
        extractOne(specs, record);
      } catch (error) {
        expect(error).toBeInstanceOf(BadRecordError);
        return (error as BadRecordError).code;
      }
      return 'accepted';
    };
    expect(codeOf([{ name: 'x', field: 'latitude', transforms: [] }], { latitude: null })).toBe(
      'FEATURE_MISSING',
    );
    expect(codeOf([{ name: 'x', field: 'latitude', transforms: [] }], { latitude: Number.NaN })).toBe(
      'FEATURE_NOT_FINITE',
    );
    expect(
      codeOf([{ name: 'x', field: 'amount_minor', transforms: [{ op: 'log1p' }] }], { amount_minor: -5 }),
    ).toBe('FEATURE_NOT_FINITE');
    expect(
      codeOf([{ name: 'x', field: 'currency', transforms: [{ op: 'scale', factor: 2 }] }], {
        currency: 'EUR',
      }),
    ).toBe('FEATURE_WRONG_TYPE');
  });

  it('refuses at compile time a mapping that reads a field the schema lacks', () => {
    expect(() =>
      compileFeatureExtractor([{ name: 'x', field: 'velocity_1h', transforms: [] }], inputType),
    ).toThrow(ConfigurationError);
    expect(() =>
      compileFeatureExtractor(
        [{ name: 'x', field: 'country', transforms: [{ op: 'differs_from_field', field: 'home_country' }] }],
        inputType,
      ),
    ).toThrow(/home_country/);
  });
});
