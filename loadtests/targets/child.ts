/**
 * The side of a benchmark target that runs in the child process: reads its configuration from argv,
 * starts the system under test, and measures it between the parent's `mark` and `stop`.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import {
  type InferenceBatch,
  inferenceBatch,
  type PredictionCacheLookup,
  predictionCacheLookup,
  subscribe,
} from '../../src/telemetry/index.js';
import type {
  ChildMessage,
  ParentMessage,
  ResourceSample,
  TargetConfig,
  TargetStats,
} from '../lib/targets.js';

export interface StartedTarget {
  /** Records published to the output topic so far. */
  outputs(): number;
  stop(): Promise<void>;
}

const MIB = 2 ** 20;
const DELAY_RESOLUTION_MS = 10;
/** Node 20's delay histogram records the whole timer interval; the delay is what exceeds the resolution. */
const delayMillis = (nanos: number) =>
  Number.isNaN(nanos) ? 0 : Math.max(0, nanos / 1e6 - DELAY_RESOLUTION_MS);

function send(message: ChildMessage): void {
  process.send?.(message);
}

export async function runTarget(start: (config: TargetConfig) => Promise<StartedTarget>): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as TargetConfig;
  const target = await start(config);

  const inference = { batches: 0, rows: 0, cacheHits: 0, cacheMisses: 0 };
  subscribe<InferenceBatch>(inferenceBatch, ({ rows }) => {
    inference.batches += 1;
    inference.rows += rows;
  });
  subscribe<PredictionCacheLookup>(predictionCacheLookup, ({ hits, misses }) => {
    inference.cacheHits += hits;
    inference.cacheMisses += misses;
  });

  const readyAt = performance.now();
  // Two histograms: one over the measured window, one per resource sample.
  const windowDelay = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });
  const sampleDelay = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });
  windowDelay.enable();
  sampleDelay.enable();
  let sampleUtilization = performance.eventLoopUtilization();
  const sampler = setInterval(() => {
    const memory = process.memoryUsage();
    const utilization = performance.eventLoopUtilization(sampleUtilization);
    sampleUtilization = performance.eventLoopUtilization();
    const sample: ResourceSample = {
      atSeconds: (performance.now() - readyAt) / 1000,
      rssMiB: memory.rss / MIB,
      heapUsedMiB: memory.heapUsed / MIB,
      eventLoopDelayP99Ms: delayMillis(sampleDelay.percentile(99)),
      eventLoopDelayMaxMs: delayMillis(sampleDelay.max),
      eventLoopUtilization: utilization.utilization,
    };
    sampleDelay.reset();
    send({ type: 'sample', sample });
  }, config.sampleIntervalMs);

  let markedAt = performance.now();
  let markedCpu = process.cpuUsage();
  let markedUtilization = performance.eventLoopUtilization();
  let markedOutputs = 0;
  let markedInference = { ...inference };

  process.on('message', async (message: ParentMessage) => {
    if (message.type === 'mark') {
      markedAt = performance.now();
      markedCpu = process.cpuUsage();
      markedUtilization = performance.eventLoopUtilization();
      markedOutputs = target.outputs();
      markedInference = { ...inference };
      windowDelay.reset();
      return;
    }
    const seconds = (performance.now() - markedAt) / 1000;
    const cpu = process.cpuUsage(markedCpu);
    const cpuMicros = cpu.user + cpu.system;
    const outputs = target.outputs() - markedOutputs;
    const batches = inference.batches - markedInference.batches;
    const stats: TargetStats = {
      outputs,
      seconds,
      cpuMicrosPerOutput: outputs > 0 ? cpuMicros / outputs : 0,
      coresUsed: cpuMicros / 1e6 / seconds,
      eventLoopUtilization: performance.eventLoopUtilization(markedUtilization).utilization,
      eventLoopDelayMs: {
        p50: delayMillis(windowDelay.percentile(50)),
        p99: delayMillis(windowDelay.percentile(99)),
        max: delayMillis(windowDelay.max),
      },
      rssMiB: process.memoryUsage().rss / MIB,
      inferenceBatches: batches,
      meanInferenceBatchRows: batches > 0 ? (inference.rows - markedInference.rows) / batches : 0,
      cacheHits: inference.cacheHits - markedInference.cacheHits,
      cacheMisses: inference.cacheMisses - markedInference.cacheMisses,
    };
    clearInterval(sampler);
    await target.stop();
    // Exiting once the report is written: kafkajs and onnxruntime may keep handles that would hold the
    // child open.
    process.send?.({ type: 'stopped', stats } satisfies ChildMessage, undefined, {}, () => process.exit(0));
  });
  send({ type: 'ready' });
}
