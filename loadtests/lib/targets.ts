/**
 * The systems under test run in child processes, so the load generator and the latency consumer do not
 * share their event loop. The parent marks the start of the measured window and stops the child; the
 * child reports what it spent in between (CPU, event-loop delay, memory, inference batch sizes).
 */
import { fork } from 'node:child_process';
import { packagePath } from '../../src/config/index.js';

export type TargetKind = 'service' | 'bare-pipe' | 'naive-service';

export const TARGET_LABELS: Record<TargetKind, string> = {
  service: 'full service',
  'bare-pipe': 'bare kafkajs pipe',
  'naive-service': 'naive service',
};

export interface TargetConfig {
  brokers: string[];
  inputTopic: string;
  outputTopic: string;
  groupId: string;
  model: string;
  /** How often the child reports a ResourceSample. */
  sampleIntervalMs: number;
  /** Service only: OpenTelemetry on, as `streamscore serve` starts it; off when absent. */
  telemetry?: TelemetrySetting;
}

export interface TelemetrySetting {
  /** Head sampling ratio of traces this service starts (parentbased_traceidratio). */
  sampling: number;
  /** Where spans go over OTLP/HTTP. */
  otlpEndpoint: string;
  /** How often /metrics is scraped during the run. */
  scrapeIntervalMs: number;
}

export interface ResourceSample {
  /** Seconds since the child was ready. */
  atSeconds: number;
  rssMiB: number;
  heapUsedMiB: number;
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  /** Share of the interval the child's main thread was busy. */
  eventLoopUtilization: number;
}

export interface TargetStats {
  /** Records the target published in the measured window. */
  outputs: number;
  seconds: number;
  /** Process CPU (all threads, user + system) per published record. */
  cpuMicrosPerOutput: number;
  /** CPU time over wall time: 1.0 is one core fully busy. */
  coresUsed: number;
  eventLoopUtilization: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  rssMiB: number;
  /** Service only: how the micro-batcher grouped rows, and the prediction cache. */
  inferenceBatches: number;
  meanInferenceBatchRows: number;
  cacheHits: number;
  cacheMisses: number;
}

export type ParentMessage = { type: 'mark' } | { type: 'stop' };
export type ChildMessage =
  | { type: 'ready' }
  | { type: 'sample'; sample: ResourceSample }
  | { type: 'stopped'; stats: TargetStats };

export interface RunningTarget {
  readonly kind: TargetKind;
  readonly samples: ResourceSample[];
  /** Starts the measured window: the child's counters restart here. */
  mark(): void;
  stop(): Promise<TargetStats>;
}

const READY_TIMEOUT_MS = 120_000;

export function startTarget(
  kind: TargetKind,
  config: TargetConfig,
  onSample?: (sample: ResourceSample) => void,
): Promise<RunningTarget> {
  const child = fork(packagePath(`loadtests/targets/${kind}.ts`), [JSON.stringify(config)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const samples: ResourceSample[] = [];
  let stopped: ((stats: TargetStats) => void) | undefined;

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${kind} did not get ready within ${READY_TIMEOUT_MS} ms`));
    }, READY_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${kind} exited with code ${code} before it was ready`));
    });
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'sample') {
        samples.push(message.sample);
        onSample?.(message.sample);
      } else if (message.type === 'stopped') {
        stopped?.(message.stats);
      } else if (message.type === 'ready') {
        clearTimeout(timer);
        resolve({
          kind,
          samples,
          mark: () => child.send({ type: 'mark' } satisfies ParentMessage),
          stop: () =>
            new Promise<TargetStats>((resolveStop, rejectStop) => {
              child.removeAllListeners('exit');
              child.once('exit', (code) => {
                if (code !== 0) rejectStop(new Error(`${kind} exited with code ${code} while stopping`));
              });
              stopped = resolveStop;
              child.send({ type: 'stop' } satisfies ParentMessage);
            }),
        });
      }
    });
  });
}
