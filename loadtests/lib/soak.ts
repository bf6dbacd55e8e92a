/**
 * The soak: the service under a steady open-loop load for a long time (ten minutes by default), its
 * resident memory and event-loop delay sampled throughout, so a leak or a slow drift shows as a slope
 * rather than hiding inside one average.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { createTopics, deleteTopics, uniqueName, waitForStableGroup } from './broker.js';
import { createEventSource } from './events.js';
import { type OpenLoopResult, runOpenLoop } from './open-loop.js';
import type { BenchOptions } from './options.js';
import { RESULTS_DIRECTORY } from './results.js';
import type { MaxRateSearch } from './scenarios.js';
import { type ResourceSample, startTarget, type TargetStats } from './targets.js';

export interface SoakResult {
  rate: number;
  /** Where the rate came from: the flag, or half the maximum in results/throughput.json. */
  rateSource: string;
  warmupSeconds: number;
  soakSeconds: number;
  run: OpenLoopResult;
  stats: TargetStats;
  samples: ResourceSample[];
  memory: {
    /** Resident memory over the samples after the warm-up. */
    meanRssMiB: number;
    minRssMiB: number;
    maxRssMiB: number;
    /** Largest distance of a sample from the mean, as a share of the mean. */
    maxDeviation: number;
    /** Least-squares trend of resident memory, MiB per minute. */
    rssSlopeMiBPerMinute: number;
  };
}

const FALLBACK_RATE = 1_000;
const SOAK_WARMUP_SECONDS = 30;

function soakRate(options: BenchOptions): { rate: number; source: string } {
  if (options.rate > 0) return { rate: options.rate, source: '--rate' };
  const path = join(RESULTS_DIRECTORY, 'throughput.json');
  if (existsSync(path)) {
    const { searches } = JSON.parse(readFileSync(path, 'utf8')) as { searches: MaxRateSearch[] };
    const service = searches.find((search) => search.target === 'service');
    if (service)
      return { rate: Math.round(service.maxRate / 2), source: 'half the service maximum in throughput.json' };
  }
  return { rate: FALLBACK_RATE, source: 'fallback: no throughput.json yet' };
}

function slopePerMinute(samples: readonly ResourceSample[]): number {
  if (samples.length < 2) return 0;
  const meanX = samples.reduce((sum, s) => sum + s.atSeconds, 0) / samples.length;
  const meanY = samples.reduce((sum, s) => sum + s.rssMiB, 0) / samples.length;
  let covariance = 0;
  let variance = 0;
  for (const sample of samples) {
    covariance += (sample.atSeconds - meanX) * (sample.rssMiB - meanY);
    variance += (sample.atSeconds - meanX) ** 2;
  }
  return variance === 0 ? 0 : (covariance / variance) * 60;
}

export async function runSoak(kafka: Kafka, options: BenchOptions): Promise<SoakResult> {
  const { rate, source } = soakRate(options);
  const warmupSeconds = Math.min(SOAK_WARMUP_SECONDS, options.soakSeconds / 4);
  const inputTopic = uniqueName('soak-in');
  const outputTopic = uniqueName('soak-out');
  const groupId = uniqueName('soak-group');
  await createTopics(kafka, [inputTopic, outputTopic, `${inputTopic}.DLT`], options.partitions);
  const target = await startTarget(
    'service',
    {
      brokers: options.brokers,
      inputTopic,
      outputTopic,
      groupId,
      model: options.model,
      sampleIntervalMs: options.sampleSeconds * 1000,
    },
    (sample) =>
      process.stderr.write(
        `  service rss ${sample.rssMiB.toFixed(0)} MiB  heap ${sample.heapUsedMiB.toFixed(0)} MiB  ` +
          `event-loop delay p99 ${sample.eventLoopDelayP99Ms.toFixed(1)} ms\n`,
      ),
  );
  let firstSteadySample = Number.POSITIVE_INFINITY;
  try {
    await waitForStableGroup(kafka, groupId);
    const run = await runOpenLoop(kafka, {
      label: 'soak',
      brokers: options.brokers,
      inputTopic,
      outputTopic,
      ratePerSecond: rate,
      warmupSeconds,
      measureSeconds: options.soakSeconds,
      tickMs: options.tickMs,
      graceSeconds: 10,
      source: createEventSource('unique'),
      onWindowStart: () => {
        target.mark();
        // The next sample covers an interval that began before the window; the steady ones come after it.
        firstSteadySample = target.samples.length + 1;
      },
      intervalSeconds: options.sampleSeconds,
    });
    const stats = await target.stop();
    // Samples are timed from the child's start, which comes before the generator's warm-up: the index at
    // the window's start tells them apart, not their time.
    const steady = target.samples.slice(firstSteadySample);
    const rss = steady.map((sample) => sample.rssMiB);
    const mean = rss.reduce((sum, value) => sum + value, 0) / Math.max(1, rss.length);
    return {
      rate,
      rateSource: source,
      warmupSeconds,
      soakSeconds: options.soakSeconds,
      run,
      stats,
      samples: target.samples,
      memory: {
        meanRssMiB: mean,
        minRssMiB: Math.min(...rss),
        maxRssMiB: Math.max(...rss),
        maxDeviation: Math.max(...rss.map((value) => Math.abs(value - mean))) / mean,
        rssSlopeMiBPerMinute: slopePerMinute(steady),
      },
    };
  } catch (error) {
    await target.stop().catch(() => undefined);
    throw error;
  } finally {
    await deleteTopics(kafka, [inputTopic, outputTopic, `${inputTopic}.DLT`]);
  }
}
