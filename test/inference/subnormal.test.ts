/**
 * Subnormal weights set to zero before onnxruntime sees a model: found wherever ONNX keeps float weights,
 * only there, and without touching the rest of the file.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadAvroSchema } from '../../src/codec/index.js';
import { packagePath } from '../../src/config/index.js';
import { createExecutor, createModelPool, type Executor } from '../../src/inference/index.js';
import { zeroSubnormalWeights } from '../../src/inference/subnormal.js';
import { listVersions, readModelArtifact } from '../../src/models/index.js';

// A few fields of onnx.proto3, written by hand so that each case holds exactly what it tests.
const varint = (value: number): number[] => {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return bytes;
};
const message = (field: number, body: number[]) => [
  ...varint(field * 8 + 2),
  ...varint(body.length),
  ...body,
];
const number = (field: number, value: number) => [...varint(field * 8), ...varint(value)];
const float32s = (values: number[]) => [...new Uint8Array(new Float32Array(values).buffer)];
const float64s = (values: number[]) => [...new Uint8Array(new Float64Array(values).buffer)];
const FLOAT = 1;
const INT32 = 6;
const DOUBLE = 11;

const model = (graph: number[]) => Uint8Array.from([...number(1, 8), ...message(7, graph)]);
const initializer = (dataType: number, data: { raw?: number[]; floats?: number[]; doubles?: number[] }) =>
  message(5, [
    ...number(2, dataType),
    ...(data.floats ? message(4, float32s(data.floats)) : []),
    ...(data.raw ? message(9, data.raw) : []),
    ...(data.doubles ? message(10, float64s(data.doubles)) : []),
  ]);
const node = (attributes: number[][]) =>
  message(1, [...message(4, [...Buffer.from('Op')]), ...attributes.flat()]);

/** The values of `bytes` at `at` read back as float32 or float64. */
const floatsAt = (bytes: Uint8Array, at: number, count: number) =>
  Array.from(new Float32Array(bytes.slice(at, at + 4 * count).buffer));

describe('zeroSubnormalWeights', () => {
  it('zeroes subnormal float initializers in raw_data and float_data, and leaves normal values and zeros', () => {
    const raw = float32s([0.5, 1e-40, -1e-41, 0]);
    const bytes = model([...initializer(FLOAT, { raw }), ...initializer(FLOAT, { floats: [1e-40, 2] })]);
    const { bytes: runnable, zeroedWeights } = zeroSubnormalWeights(bytes);
    expect(zeroedWeights).toBe(3);
    const rawAt = Buffer.from(runnable).indexOf(Buffer.from(float32s([0.5])));
    expect(floatsAt(runnable, rawAt, 4)).toEqual([0.5, 0, 0, 0]);
    expect(Buffer.from(runnable).includes(Buffer.from(float32s([0, 2])))).toBe(true);
    // The caller's bytes stay as they were: they are the ones whose checksum was verified.
    expect(floatsAt(bytes, rawAt, 2)[1]).toBe(Math.fround(1e-40));
  });

  it('zeroes subnormal doubles, in raw_data and double_data', () => {
    const bytes = model([
      ...initializer(DOUBLE, { raw: float64s([1e-310, 1]) }),
      ...initializer(DOUBLE, { doubles: [1e-320] }),
    ]);
    const { bytes: runnable, zeroedWeights } = zeroSubnormalWeights(bytes);
    expect(zeroedWeights).toBe(2);
    expect(Buffer.from(runnable).includes(Buffer.from(float64s([0, 1])))).toBe(true);
  });

  it('leaves tensors of other types alone, even where their bytes read as subnormal floats', () => {
    // The int32 1 has the bits of the smallest subnormal float32.
    const bytes = model(initializer(INT32, { raw: [...new Uint8Array(new Int32Array([1, 2, 3]).buffer)] }));
    const result = zeroSubnormalWeights(bytes);
    expect(result).toEqual({ bytes, zeroedWeights: 0 });
    expect(result.bytes).toBe(bytes);
  });

  it("finds the floats of nodes' attributes and the initializers of their subgraphs", () => {
    const floats = message(7, float32s([1e-40, 3]));
    const single = [...varint(2 * 8 + 5), ...float32s([1e-39])];
    const subgraph = message(6, initializer(FLOAT, { raw: float32s([1e-40]) }));
    const bytes = model([...node([message(5, floats), message(5, single), message(5, subgraph)])]);
    expect(zeroSubnormalWeights(bytes).zeroedWeights).toBe(3);
  });

  it('hands a file it cannot walk to onnxruntime as it is', () => {
    const whole = model(initializer(FLOAT, { raw: float32s([1e-40]) }));
    const truncated = whole.subarray(0, whole.length - 3);
    const result = zeroSubnormalWeights(truncated);
    expect(result.zeroedWeights).toBe(0);
    expect(result.bytes).toBe(truncated);
  });

  it('gives, from fraud-mlp as it was exported, the very bytes of the fraud-mlp this repository serves', () => {
    const exported = readFileSync(packagePath('test/fixtures/models/fraud-mlp-subnormal/1/model.onnx'));
    const { bytes, zeroedWeights } = zeroSubnormalWeights(exported);
    expect(zeroedWeights).toBe(741);
    expect(Buffer.from(bytes).equals(readFileSync(packagePath('models/fraud-mlp/1/model.onnx')))).toBe(true);
  });

  it('finds none in the models the repository serves, and returns their bytes without a copy', async () => {
    const versions = await Promise.all(
      ['fraud-gbm', 'fraud-mlp', 'fraud-forest'].map((name) => listVersions(packagePath('models'), name)),
    );
    for (const { directory } of versions.flat()) {
      const { bytes } = await readModelArtifact(directory);
      const result = zeroSubnormalWeights(bytes);
      expect(result.zeroedWeights, directory).toBe(0);
      expect(result.bytes, directory).toBe(bytes);
    }
  });
});

describe('the model pool', () => {
  it('loads a version with its subnormal weights at zero and says how many there were', async () => {
    const real = createExecutor({ workers: 0, intraOpThreads: 1 });
    const loaded: Uint8Array[] = [];
    const executor: Executor = {
      ...real,
      threads: real.threads,
      load: (key, artifact) => {
        loaded.push(artifact.bytes);
        return real.load(key, artifact);
      },
      score: (key, features, rows) => real.score(key, features, rows),
      release: (key) => real.release(key),
      close: () => real.close(),
    };
    const pool = createModelPool(loadAvroSchema(packagePath('schemas/card-transaction.avsc')), executor, {
      batching: { maxBatchSize: 64, maxDelayMicros: 200 },
      cache: undefined,
    });
    try {
      const artifact = await readModelArtifact(packagePath('test/fixtures/models/fraud-mlp-subnormal/1'));
      expect(await pool.load(artifact)).toEqual({ zeroedWeights: 741 });
      expect(Buffer.from(loaded[0]!).equals(readFileSync(packagePath('models/fraud-mlp/1/model.onnx')))).toBe(
        true,
      );
      // Loaded already: nothing to do, nothing zeroed.
      expect(await pool.load(artifact)).toEqual({ zeroedWeights: 0 });
    } finally {
      await pool.close();
      await executor.close();
    }
  });
});
