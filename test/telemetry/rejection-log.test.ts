import { afterEach, describe, expect, it, vi } from 'vitest';
import { BadRecordError } from '../../src/errors/index.js';
import { createRejectionLog, LINES_PER_CODE, WINDOW_MS } from '../../src/telemetry/rejection-log.js';
import { capturingLogger } from '../support/logs.js';

const rejection = (offset: number, code: 'RECORD_TRUNCATED' | 'RECORD_EMPTY') => ({
  topic: 'events',
  partition: 1,
  offset: String(offset),
  error: new BadRecordError(code, `bad at ${offset}`),
});

describe('the rejected-record log in a storm of bad records', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes at most the limit per code in a window and sums the rest in one line per code', () => {
    vi.useFakeTimers();
    const { logger, lines } = capturingLogger();
    const log = createRejectionLog(logger);
    for (let offset = 0; offset < 1_000; offset++) log.log(rejection(offset, 'RECORD_TRUNCATED'));
    for (let offset = 0; offset < 3; offset++) log.log(rejection(offset, 'RECORD_EMPTY'));

    const rejected = lines.filter((line) => line.msg === 'record rejected');
    expect(rejected.filter((line) => line.code === 'RECORD_TRUNCATED')).toHaveLength(LINES_PER_CODE);
    expect(rejected.filter((line) => line.code === 'RECORD_EMPTY')).toHaveLength(3);
    expect(rejected[0]).toMatchObject({ topic: 'events', partition: 1, offset: '0', reason: 'bad at 0' });

    vi.advanceTimersByTime(WINDOW_MS);
    const summaries = lines.filter((line) => line.msg === 'record rejections not logged one by one');
    expect(summaries).toEqual([
      expect.objectContaining({
        code: 'RECORD_TRUNCATED',
        count: 1_000 - LINES_PER_CODE,
        windowMs: WINDOW_MS,
      }),
    ]);

    // A new window writes lines again.
    log.log(rejection(5_000, 'RECORD_TRUNCATED'));
    expect(lines.at(-1)).toMatchObject({ msg: 'record rejected', offset: '5000' });
    log.close();
  });

  it('writes what the last window left out when it closes', () => {
    const { logger, lines } = capturingLogger();
    const log = createRejectionLog(logger);
    for (let offset = 0; offset < LINES_PER_CODE + 7; offset++) log.log(rejection(offset, 'RECORD_EMPTY'));
    log.close();
    expect(lines.at(-1)).toMatchObject({
      msg: 'record rejections not logged one by one',
      code: 'RECORD_EMPTY',
      count: 7,
    });
  });
});
