import { describe, expect, it } from 'vitest';
import { BadRecordError } from '../../src/errors/index.js';
import type { InputRecord } from '../../src/kafka/index.js';
import {
  DeadLetterHeaders,
  fromDeadLetter,
  REPLAYED_FROM_HEADER,
  readDeadLetter,
  toDeadLetter,
} from '../../src/routing/index.js';

const original: InputRecord = {
  key: Buffer.from('account-7'),
  value: Buffer.from([1, 2, 3]),
  headers: { traceparent: '00-abc-def-01', tenant: [Buffer.from('a'), Buffer.from('b')] },
  offset: '41',
  timestamp: '1700000000000',
};
const error = new BadRecordError('RECORD_TRUNCATED', 'record ends 3 bytes early');

/** A dead letter as the dead-letter topic gives it back: offset and timestamp of its own. */
function stored(record: InputRecord, offset: string): InputRecord {
  const { key, value, headers } = toDeadLetter(record, { topic: 'transactions', partition: 2 }, error);
  return { key: key as Buffer | null, value, headers, offset, timestamp: '1700000005000' };
}

describe('dead letters read back', () => {
  it('say where they came from and why', () => {
    expect(readDeadLetter(stored(original, '9'))).toEqual({
      topic: 'transactions',
      partition: 2,
      offset: '41',
      code: 'RECORD_TRUNCATED',
      message: 'record ends 3 bytes early',
    });
  });

  it('are not taken for dead letters without their origin or code', () => {
    const letter = stored(original, '9');
    for (const name of [
      DeadLetterHeaders.originalTopic,
      DeadLetterHeaders.originalPartition,
      DeadLetterHeaders.originalOffset,
      DeadLetterHeaders.errorCode,
    ]) {
      const headers = { ...letter.headers, [name]: undefined };
      expect(readDeadLetter({ ...letter, headers })).toBeNull();
    }
    expect(
      readDeadLetter({
        ...letter,
        headers: { ...letter.headers, [DeadLetterHeaders.originalPartition]: 'x' },
      }),
    ).toBeNull();
    expect(readDeadLetter(original)).toBeNull();
  });

  it('give back the original key, value and headers, naming the dead letter replayed', () => {
    const replay = fromDeadLetter(stored(original, '9'), { topic: 'transactions.DLT', partition: 1 });
    expect(replay).toEqual({
      key: original.key,
      value: original.value,
      headers: { ...original.headers, [REPLAYED_FROM_HEADER]: 'transactions.DLT/1/9' },
    });
  });

  it('name only their latest dead letter when replayed twice', () => {
    const first = fromDeadLetter(stored(original, '9'), { topic: 'transactions.DLT', partition: 1 });
    const again = { ...original, headers: first.headers, offset: '77' };
    const second = fromDeadLetter(stored(again, '12'), { topic: 'transactions.DLT', partition: 0 });
    expect(second.headers?.[REPLAYED_FROM_HEADER]).toBe('transactions.DLT/0/12');
  });
});
