/**
 * Turns decoded records into rows of the model's input tensor, as the manifest's feature mapping says.
 * The mapping is compiled once against the Avro schema, so a field the schema lacks is a start-up error
 * and the per-record work is a fixed list of small functions writing straight into the row buffer. Features
 * are computed in float64; a float32 buffer rounds each one as it is stored, a float64 buffer keeps it.
 */
import type avro from 'avsc';
import { BadRecordError, ConfigurationError } from '../errors/index.js';
import type { FeatureSpec, FeatureTransform } from '../models/index.js';
import { allocateFeatureRows, type FeatureElementType, type FeatureRows } from './rows.js';

export type DecodedRecord = Readonly<Record<string, unknown>>;

export interface FeatureExtractor {
  /** Number of features per row. */
  readonly width: number;
  /** The input fields the features read. */
  readonly fields: readonly string[];
  /** Room for `rows` rows of features, in the element type the model's input takes. */
  allocateRows(rows: number): FeatureRows;
  /** Writes one record's features at row `row` of `out`, or throws a BadRecordError. */
  extractInto(record: DecodedRecord, out: FeatureRows, row: number): void;
}

type Step = (value: unknown, record: DecodedRecord) => unknown;
type Feature = (record: DecodedRecord) => number;

const MILLIS_PER_HOUR = 3_600_000;

function numeric(feature: string, value: unknown): number {
  if (typeof value !== 'number') {
    throw new BadRecordError('FEATURE_WRONG_TYPE', `feature ${feature} needs a number`);
  }
  return value;
}

function compileStep(feature: string, transform: FeatureTransform): Step {
  switch (transform.op) {
    case 'scale':
      return (value) => numeric(feature, value) * transform.factor;
    case 'log1p':
      return (value) => Math.log1p(numeric(feature, value));
    case 'clip':
      return (value) => Math.min(transform.max, Math.max(transform.min, numeric(feature, value)));
    case 'equals':
      return (value) => (value === transform.value ? 1 : 0);
    case 'in_set': {
      const members = new Set<unknown>(transform.values);
      return (value) => (members.has(value) ? 1 : 0);
    }
    case 'is_null':
      return (value) => (value === null || value === undefined ? 1 : 0);
    case 'differs_from_field': {
      const other = transform.field;
      return (value, record) => (value !== record[other] ? 1 : 0);
    }
    case 'hour_of_day_utc':
      return (value) => {
        const hours = Math.floor(numeric(feature, value) / MILLIS_PER_HOUR) % 24;
        return hours < 0 ? hours + 24 : hours;
      };
  }
}

function compileFeature(spec: FeatureSpec): Feature {
  const { name, field } = spec;
  const steps = spec.transforms.map((transform) => compileStep(name, transform));
  const nullIsAValue = spec.transforms[0]?.op === 'is_null';
  const fallback = spec.default;
  return (record) => {
    let value: unknown = record[field];
    if ((value === null || value === undefined) && !nullIsAValue) {
      if (fallback === undefined)
        throw new BadRecordError('FEATURE_MISSING', `feature ${name}: field ${field} is null`);
      value = fallback;
    }
    for (const step of steps) value = step(value, record);
    if (typeof value === 'boolean') return value ? 1 : 0;
    const result = numeric(name, value);
    if (!Number.isFinite(result)) {
      throw new BadRecordError('FEATURE_NOT_FINITE', `feature ${name} is not a finite number`);
    }
    return result;
  };
}

function fieldNames(type: avro.Type): Set<string> {
  const fields = (type as avro.Type & { fields?: { name: string }[] }).fields;
  if (!fields) throw new ConfigurationError('SCHEMA_INVALID', 'the input schema must be an Avro record');
  return new Set(fields.map((field) => field.name));
}

export function compileFeatureExtractor(
  specs: readonly FeatureSpec[],
  inputType: avro.Type,
  elementType: FeatureElementType = 'float32',
): FeatureExtractor {
  const known = fieldNames(inputType);
  const fields = new Set<string>();
  for (const spec of specs) {
    const referenced = [
      spec.field,
      ...spec.transforms.flatMap((t) => (t.op === 'differs_from_field' ? [t.field] : [])),
    ];
    for (const field of referenced) {
      fields.add(field);
      if (!known.has(field)) {
        throw new ConfigurationError(
          'MODEL_SIGNATURE_MISMATCH',
          `feature ${spec.name} reads field ${field}, which the input schema ${inputType.name} does not have`,
        );
      }
    }
  }
  const features = specs.map(compileFeature);
  const width = features.length;
  return {
    width,
    fields: [...fields],
    allocateRows: (rows) => allocateFeatureRows(elementType, rows * width),
    extractInto(record, out, row) {
      const base = row * width;
      for (let column = 0; column < width; column++) {
        out[base + column] = (features[column] as Feature)(record);
      }
    },
  };
}
