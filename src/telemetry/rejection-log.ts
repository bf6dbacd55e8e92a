/**
 * The 'record rejected' log line, at most LINES_PER_CODE times per error code in each 10 s window. A storm
 * of bad records (a producer publishing garbage) would otherwise write a line per record: 89,000 lines for
 * the fault suite's 100,000 fuzzed records, enough to hold the process up on its own stdout and to flood a
 * log pipeline. Every rejected record still reaches the dead-letter topic with its reason and is counted in
 * streamscore_dead_lettered_total; the lines left out are summed, per code, in one line per window.
 */
import type { RecordRejected } from './events.js';
import type { Logger } from './logger.js';

export const LINES_PER_CODE = 100;
export const WINDOW_MS = 10_000;

export interface RejectionLog {
  log(rejection: RecordRejected): void;
  /** Writes what the current window left out; the observer's close does it before stopping. */
  close(): void;
}

export function createRejectionLog(logger: Logger): RejectionLog {
  // Per code: lines written and lines left out in the current window.
  const written = new Map<string, number>();
  const leftOut = new Map<string, number>();

  const endWindow = () => {
    for (const [code, count] of leftOut)
      logger.warn({ code, count, windowMs: WINDOW_MS }, 'record rejections not logged one by one');
    written.clear();
    leftOut.clear();
  };
  const timer = setInterval(endWindow, WINDOW_MS);
  timer.unref();

  return {
    log({ topic, partition, offset, error }) {
      const lines = written.get(error.code) ?? 0;
      if (lines < LINES_PER_CODE) {
        written.set(error.code, lines + 1);
        logger.warn({ topic, partition, offset, code: error.code, reason: error.message }, 'record rejected');
      } else {
        leftOut.set(error.code, (leftOut.get(error.code) ?? 0) + 1);
      }
    },
    close() {
      clearInterval(timer);
      endWindow();
    },
  };
}
