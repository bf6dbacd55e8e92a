import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/index.js';
import { createLogger, type Logger } from '../../src/telemetry/index.js';

/** A logger whose JSON lines the test can read back. */
export function capturingLogger(level = 'info'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return {
    logger: createLogger({ level, pretty: false, redact: loadConfig({ env: {} }).log.redact }, stream),
    lines,
  };
}
