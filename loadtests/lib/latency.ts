/** Latency histograms: HdrHistogram in microseconds, summarised in milliseconds. */
import * as hdr from 'hdr-histogram-js';

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** Ten minutes: anything later is recorded as ten minutes rather than dropped. */
const HIGHEST_MICROS = 600_000_000;

export interface LatencyRecorder {
  recordMillis(latencyMs: number): void;
  summary(): LatencySummary;
}

export function createLatencyRecorder(): LatencyRecorder {
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_MICROS,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
  const millis = (micros: number) => Math.round(micros) / 1000;
  return {
    recordMillis(latencyMs) {
      histogram.recordValue(Math.min(HIGHEST_MICROS, Math.max(1, Math.round(latencyMs * 1000))));
    },
    summary() {
      return {
        count: histogram.totalCount,
        p50: millis(histogram.getValueAtPercentile(50)),
        p90: millis(histogram.getValueAtPercentile(90)),
        p99: millis(histogram.getValueAtPercentile(99)),
        p999: millis(histogram.getValueAtPercentile(99.9)),
        max: millis(histogram.maxValue),
        mean: millis(histogram.mean),
      };
    },
  };
}
