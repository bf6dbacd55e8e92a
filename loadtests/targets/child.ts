/**
 * The side of a benchmark target that runs in the child process: reads its configuration from argv,
 * starts the system under test, and measures it between the parent's `mark` and `stop`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import {
  type InferenceBatch,
  inferenceBatch,
  type PredictionCacheLookup,
  predictionCacheLookup,
  subscribe,
} from '../../src/telemetry/index.js';
import { watchShadowRows } from '../lib/shadow-rows.js';
import type {
  ChildMessage,
  ParentMessage,
  ResourceSample,
  TargetConfig,
  TargetStats,
} from '../lib/targets.js';

export interface StartedTarget {
  /** Records published to the output topic so far. */
  outputs(): number | Promise<number>;
  stop(): Promise<void>;
}

const MIB = 2 ** 20;
const DELAY_RESOLUTION_MS = 10;
/** Node 20's delay histogram records the whole timer interval; the delay is what exceeds the resolution. */
const delayMillis = (nanos: number) =>
  Number.isNaN(nanos) ? 0 : Math.max(0, nanos / 1e6 - DELAY_RESOLUTION_MS);

/**
 * CPU time of the main thread alone, in microseconds: the first field of Linux's schedstat for the thread
 * whose id is the process id. Undefined where there is no such file.
 */
function mainThreadCpuMicros(): number | undefined {
  try {
    const [nanos] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ');
    const value = Number(nanos) / 1000;
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

export async function runTarget(start: (config: TargetConfig) => Promise<StartedTarget>): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as TargetConfig;
  const target = await start(config);

  const inference = { batches: 0, rows: 0, cacheHits: 0, cacheMisses: 0 };
  const shadowRows = watchShadowRows().counts;
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
  let markedMainThreadCpu = mainThreadCpuMicros();
  let markedUtilization = performance.eventLoopUtilization();
  let markedOutputs = 0;
  let markedInference = { ...inference };
  let markedShadowRows = { ...shadowRows };

  // The profiler runs over the measured window only: start-up and warm-up would swamp a short window.
  let profiler: Session | undefined;
  const startProfiler = async (): Promise<void> => {
    if (!config.profilePath || profiler) return;
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  };
  const writeProfile = async (): Promise<void> => {
    if (!profiler || !config.profilePath) return;
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(config.profilePath, JSON.stringify(profile));
    profiler.disconnect();
  };

  process.on('message', async (message: ParentMessage) => {
    if (message.type === 'mark') {
      void startProfiler();
      // A target that counts its outputs asynchronously (loops answer through messages) is read between
      // two clock and CPU readings, and the window starts at their midpoint.
      const before = { at: performance.now(), cpu: process.cpuUsage() };
      markedOutputs = await target.outputs();
      const after = process.cpuUsage();
      markedAt = (before.at + performance.now()) / 2;
      markedCpu = {
        user: (before.cpu.user + after.user) / 2,
        system: (before.cpu.system + after.system) / 2,
      };
      markedMainThreadCpu = mainThreadCpuMicros();
      markedUtilization = performance.eventLoopUtilization();
      markedInference = { ...inference };
      markedShadowRows = { ...shadowRows };
      windowDelay.reset();
      return;
    }
    const seconds = (performance.now() - markedAt) / 1000;
    const cpu = process.cpuUsage(markedCpu);
    const cpuMicros = cpu.user + cpu.system;
    const mainThreadCpu = mainThreadCpuMicros();
    const outputs = (await target.outputs()) - markedOutputs;
    const batches = inference.batches - markedInference.batches;
    const stats: TargetStats = {
      outputs,
      seconds,
      cpuMicrosPerOutput: outputs > 0 ? cpuMicros / outputs : 0,
      ...(mainThreadCpu !== undefined && markedMainThreadCpu !== undefined && outputs > 0
        ? { mainThreadCpuMicrosPerOutput: (mainThreadCpu - markedMainThreadCpu) / outputs }
        : {}),
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
      shadowRows: {
        ok: shadowRows.ok - markedShadowRows.ok,
        timeout: shadowRows.timeout - markedShadowRows.timeout,
        error: shadowRows.error - markedShadowRows.error,
        shed: shadowRows.shed - markedShadowRows.shed,
      },
    };
    clearInterval(sampler);
    await writeProfile();
    // Delivered before stopping: a child that dies while stopping has still reported its window.
    await new Promise<void>((resolve) => {
      if (!process.send) return resolve();
      process.send({ type: 'measured', stats } satisfies ChildMessage, undefined, {}, () => resolve());
    });
    await target.stop();
    // Exiting once stopped: kafkajs and onnxruntime may keep handles that would hold the child open.
    process.exit(0);
  });
  send({ type: 'ready' });
}
