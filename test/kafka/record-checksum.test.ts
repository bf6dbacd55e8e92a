/**
 * streamscore patches kafkajs's CRC-32C (scripts/patch-kafkajs-checksum.mjs) to take eight bytes a step. A
 * produce request whose batch checksum is wrong is refused by the broker, so the patched function must give
 * the original's checksum for every length (each remainder of eight) and for every byte value.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { CHECKSUM_PATCHES } from '../../scripts/patch-kafkajs-checksum.mjs';
import { firstLineOf, loadOriginal, patchMarker } from './support/kafkajs-original.js';

const require = createRequire(import.meta.url);
const [patch] = CHECKSUM_PATCHES;
type Checksum = (buffer: Buffer) => number;
const patched = require(`kafkajs/${patch!.file}`) as Checksum;
const original = loadOriginal(patch!) as Checksum;

describe('kafkajs CRC-32C, as installed', () => {
  it('is the patched file', () => {
    expect(firstLineOf(patch!.file)).toBe(patchMarker(patch!.name));
  });

  it('gives the standard check value of CRC-32C', () => {
    expect(patched(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('gives the original checksum at every length up to 70 bytes, and for a whole produce batch', () => {
    for (let length = 0; length <= 70; length++) {
      const bytes = randomBytes(length);
      expect(patched(bytes)).toBe(original(bytes));
    }
    const batch = randomBytes(1_048_576 + 3);
    expect(patched(batch)).toBe(original(batch));
  });

  it('gives the original checksum for every byte value at every position of a step', () => {
    for (let position = 0; position < 8; position++) {
      for (let value = 0; value < 256; value++) {
        const bytes = Buffer.alloc(11, 0xa5);
        bytes[position] = value;
        expect(patched(bytes)).toBe(original(bytes));
      }
    }
  });

  it('checksums a view of a larger buffer by its own bytes only', () => {
    const whole = randomBytes(100);
    expect(patched(whole.subarray(13, 77))).toBe(original(Buffer.from(whole.subarray(13, 77))));
  });
});
