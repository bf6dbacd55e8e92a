import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  localBrokerGcLog,
  parseGcPauses,
  pausesBetween,
  readBrokerGcPauses,
} from '../../loadtests/lib/broker-gc.js';

/** What the local broker's JVM (Java 17, G1) wrote with -Xlog:gc:…:time,uptime, plus a remark and a cleanup. */
const GC_LOG = [
  '[2026-12-04T09:46:54.602+0000][0.004s] Using G1',
  '[2026-12-04T09:46:55.306+0000][0.708s] GC(0) Pause Young (Normal) (G1 Evacuation Pause) 52M->8M(1024M) 11.471ms',
  '[2026-12-04T09:46:55.409+0000][0.810s] GC(1) Pause Young (Concurrent Start) (Metadata GC Threshold) 15M->9M(1024M) 7.052ms',
  '[2026-12-04T09:46:55.409+0000][0.810s] GC(2) Concurrent Mark Cycle',
  '[2026-12-04T09:46:55.430+0000][0.831s] GC(2) Pause Remark 10M->10M(1024M) 1.250ms',
  '[2026-12-04T10:46:55.440+0100][0.841s] GC(2) Pause Cleanup 10M->10M(1024M) 0.125ms',
  '[2026-12-04T09:46:55.452+0000][0.853s] GC(2) Concurrent Mark Cycle 42.830ms',
  '',
].join('\n');

const at = (iso: string) => Date.parse(iso);

describe("the broker's GC log", () => {
  it('reads every stop-the-world pause with the wall-clock instant it ended, in any time zone', () => {
    expect(parseGcPauses(GC_LOG)).toEqual([
      { endedAtMs: at('2026-12-04T09:46:55.306Z'), durationMs: 11.471 },
      { endedAtMs: at('2026-12-04T09:46:55.409Z'), durationMs: 7.052 },
      { endedAtMs: at('2026-12-04T09:46:55.430Z'), durationMs: 1.25 },
      { endedAtMs: at('2026-12-04T09:46:55.440Z'), durationMs: 0.125 },
    ]);
  });

  it('counts the pauses overlapping a window, one that began before it or ended after it included', () => {
    const pauses = parseGcPauses(GC_LOG);
    // The first pause ran from 55.29453 to 55.306: the window starts inside it.
    expect(pausesBetween(pauses, at('2026-12-04T09:46:55.300Z'), at('2026-12-04T09:46:55.405Z'))).toEqual({
      count: 2,
      totalMs: 11.471 + 7.052,
      longestMs: 11.471,
    });
    // The second ran from 55.401948 to 55.409: the window ends inside it.
    expect(pausesBetween(pauses, at('2026-12-04T09:46:55.307Z'), at('2026-12-04T09:46:55.402Z'))).toEqual({
      count: 1,
      totalMs: 7.052,
      longestMs: 7.052,
    });
    expect(pausesBetween(pauses, at('2026-12-04T09:46:56.000Z'), at('2026-12-04T09:46:57.000Z'))).toEqual({
      count: 0,
      totalMs: 0,
      longestMs: 0,
    });
  });
});

describe('where the log is', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("finds the local broker's log in its state folder, and reads it afresh at each call", () => {
    const state = mkdtempSync(join(tmpdir(), 'broker-gc-'));
    vi.stubEnv('KAFKA_STATE_DIR', state);
    expect(localBrokerGcLog(['127.0.0.1:9092'])).toBeUndefined();
    const path = join(state, 'gc.log');
    writeFileSync(path, GC_LOG.split('\n').slice(0, 2).join('\n'));
    expect(localBrokerGcLog(['127.0.0.1:9092'])).toBe(path);
    const window = [at('2026-12-04T09:46:55Z'), at('2026-12-04T09:46:56Z')] as const;
    expect(readBrokerGcPauses(path, ...window)?.count).toBe(1);
    writeFileSync(path, GC_LOG);
    expect(readBrokerGcPauses(path, ...window)?.count).toBe(4);
  });

  it('has none for a broker elsewhere, or for several', () => {
    expect(localBrokerGcLog(['kafka-0.kafka:9092'])).toBeUndefined();
    expect(localBrokerGcLog(['127.0.0.1:9092', '127.0.0.1:9095'])).toBeUndefined();
    expect(readBrokerGcPauses(undefined, 0, 1)).toBeUndefined();
  });
});
