/**
 * The local broker's garbage-collection pauses over a span of wall-clock time, from the GC log that
 * scripts/kafka/kafka.sh has the broker write (`-Xlog:gc`, as Kafka's own start scripts do). A pause stops
 * every broker thread: no produce is acknowledged and no fetch answered until it ends. A closed-loop client
 * (Kafka's EndToEndLatency tool, one record at a time) has one record waiting through it; an open-loop
 * stream has every event sent during it waiting, which is what a stream's tail latency is made of.
 */
import { existsSync, readFileSync } from 'node:fs';
import { packagePath } from '../../src/config/index.js';

export interface GcPause {
  /** Wall clock (epoch ms) when the pause ended: the JVM logs a pause once it is over. */
  endedAtMs: number;
  durationMs: number;
}

export interface GcPauses {
  count: number;
  totalMs: number;
  longestMs: number;
}

// [2026-12-04T09:44:35.136+0000][122.582s] GC(27) Pause Young (Normal) (G1 Evacuation Pause) 787M->178M(1024M) 9.270ms
const PAUSE_LINE =
  /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})([+-]\d\d)(\d\d)\]\S* GC\(\d+\) Pause .* ([\d.]+)ms$/;

/** Every stop-the-world pause of a unified JVM GC log decorated with `time`: young, mixed, remark, cleanup. */
export function parseGcPauses(log: string): GcPause[] {
  const pauses: GcPause[] = [];
  for (const line of log.split('\n')) {
    const match = PAUSE_LINE.exec(line);
    if (!match) continue;
    const [, local, offsetHours, offsetMinutes, duration] = match as unknown as [
      string,
      string,
      string,
      string,
      string,
    ];
    pauses.push({
      endedAtMs: Date.parse(`${local}${offsetHours}:${offsetMinutes}`),
      durationMs: Number(duration),
    });
  }
  return pauses;
}

/** The pauses that overlap [startMs, endMs]. */
export function pausesBetween(pauses: readonly GcPause[], startMs: number, endMs: number): GcPauses {
  let count = 0;
  let totalMs = 0;
  let longestMs = 0;
  for (const { endedAtMs, durationMs } of pauses) {
    if (endedAtMs < startMs || endedAtMs - durationMs > endMs) continue;
    count += 1;
    totalMs += durationMs;
    longestMs = Math.max(longestMs, durationMs);
  }
  return { count, totalMs, longestMs };
}

/**
 * The GC log of the broker kafka.sh runs on `brokers`' port, in the state folder it uses (KAFKA_STATE_DIR,
 * else .cache/kafka/run-<port>); undefined for any other broker, or one started without the log.
 */
export function localBrokerGcLog(brokers: readonly string[]): string | undefined {
  const [host, port] = (brokers[0] ?? '').split(':');
  if (brokers.length !== 1 || (host !== '127.0.0.1' && host !== 'localhost') || !port) return undefined;
  const cache = process.env.KAFKA_CACHE_DIR ?? packagePath('.cache/kafka');
  const path = `${process.env.KAFKA_STATE_DIR ?? `${cache}/run-${port}`}/gc.log`;
  return existsSync(path) ? path : undefined;
}

/** Reads the log anew at each call: it grows while the benchmark runs. */
export function readBrokerGcPauses(
  path: string | undefined,
  startMs: number,
  endMs: number,
): GcPauses | undefined {
  return path === undefined
    ? undefined
    : pausesBetween(parseGcPauses(readFileSync(path, 'utf8')), startMs, endMs);
}
