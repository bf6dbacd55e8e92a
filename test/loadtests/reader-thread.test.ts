import { describe, expect, it } from 'vitest';
import { packBatch, unpackValues } from '../../loadtests/lib/reader-thread.js';

describe('packBatch', () => {
  it('carries every value, null and empty ones included, and every timestamp, in order', () => {
    const messages = [
      { value: Buffer.from('first'), timestamp: '1764700000001' },
      { value: null, timestamp: '1764700000002' },
      { value: Buffer.alloc(0), timestamp: '1764700000003' },
      { value: Buffer.from([0, 255, 7]), timestamp: '1764700000004' },
    ];
    const packed = packBatch(messages, 12.5);
    expect(packed.receivedAtEpochMs).toBe(12.5);
    expect([...packed.timestamps]).toEqual([1764700000001, 1764700000002, 1764700000003, 1764700000004]);
    const values = unpackValues(packed);
    expect(values.map((value) => value?.toString('hex') ?? null)).toEqual([
      Buffer.from('first').toString('hex'),
      null,
      '',
      '00ff07',
    ]);
  });

  it('copies only the values, not the fetch response they are slices of', () => {
    const response = Buffer.alloc(64 * 1024, 1);
    const messages = [
      { value: response.subarray(100, 110), timestamp: '1' },
      { value: response.subarray(5_000, 5_003), timestamp: '2' },
    ];
    const packed = packBatch(messages, 0);
    expect(packed.bytes.byteLength).toBe(13);
    response.fill(9);
    expect(unpackValues(packed).map((value) => [...value!])).toEqual([Array(10).fill(1), Array(3).fill(1)]);
  });
});
