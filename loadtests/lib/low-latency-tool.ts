/**
 * Kafka's own EndToEndLatency tool on the benchmark's broker: the floor one hop (a producer's send, acks=all,
 * to a consumer's poll returning the record) costs there. The tool sends one record, waits for it to come
 * back, then sends the next, and prints the percentiles of those round trips in whole milliseconds
 * (truncated: "1" is a latency between 1.0 and 1.999 ms).
 */

import type { Kafka } from 'kafkajs';
import { deleteTopics, kafkaTool, uniqueName } from './broker.js';

/** The tool's figures for one hop, in milliseconds as it prints them. */
export interface HopLatency {
  records: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
}

/** The tool's figures for an event in and a prediction out: two hops. */
export interface TwoHopLatency {
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
}

export class ToolOutputError extends Error {
  readonly code = 'BENCH_TOOL_OUTPUT';
}

const AVERAGE = /^Avg latency: ([\d.]+) ms$/m;
const PERCENTILES = /^Percentiles: 50th = (\d+), 99th = (\d+), 99\.9th = (\d+)$/m;

/** The summary lines EndToEndLatency ends with; the samples it prints every thousandth record are skipped. */
export function parseToolOutput(output: string, records: number): HopLatency {
  const average = AVERAGE.exec(output);
  const percentiles = PERCENTILES.exec(output);
  if (!average || !percentiles) {
    throw new ToolOutputError(
      `EndToEndLatency printed no summary: ${output.trim().split('\n').at(-1) ?? ''}`,
    );
  }
  return {
    records,
    meanMs: Number(average[1]),
    p50Ms: Number(percentiles[1]),
    p99Ms: Number(percentiles[2]),
    p999Ms: Number(percentiles[3]),
  };
}

/** The tool truncates to whole milliseconds: "0" is anywhere in [0, 1) ms, its middle the fair reading. */
const TRUNCATED_MIDDLE_MS = 0.5;

/**
 * An event pays one hop in and one hop out, two independent draws from the hop's distribution, so each
 * percentile of one hop (read at the middle of its whole millisecond) is doubled. For the median that is
 * the median of the sum when the distribution is symmetric about it, and an underestimate when its right
 * tail is longer (it is); for the tail it is an overestimate, since both hops rarely land in their worst 1%
 * together. The p50 goal is therefore the stricter one.
 */
export const twoHops = (hop: HopLatency): TwoHopLatency => ({
  p50Ms: (hop.p50Ms + TRUNCATED_MIDDLE_MS) * 2,
  p99Ms: (hop.p99Ms + TRUNCATED_MIDDLE_MS) * 2,
  p999Ms: (hop.p999Ms + TRUNCATED_MIDDLE_MS) * 2,
});

/** Runs the tool on a fresh one-partition topic it creates, then deletes the topic. */
export async function runEndToEndLatencyTool(
  kafka: Kafka,
  brokers: readonly string[],
  records: number,
  recordBytes: number,
): Promise<HopLatency> {
  const topic = uniqueName('end-to-end-latency');
  try {
    const output = kafkaTool(brokers)('EndToEndLatency', [
      '--bootstrap-server',
      brokers.join(','),
      '--topic',
      topic,
      '--num-records',
      String(records),
      '--producer-acks',
      'all',
      '--record-size',
      String(recordBytes),
    ]);
    return parseToolOutput(output, records);
  } finally {
    await deleteTopics(kafka, [topic]);
  }
}
