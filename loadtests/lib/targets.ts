/**
 * The systems under test run in child processes, so the load generator and the latency consumer do not
 * share their event loop. The parent marks the start of the measured window and stops the child; the
 * child reports what it spent in between (CPU, event-loop delay, memory, inference batch sizes).
 */
import { fork } from 'node:child_process';
import { type ConfigInput, packagePath } from '../../src/config/index.js';

export type TargetKind = 'service' | 'service-loops' | 'bare-pipe' | 'published-pipe' | 'naive-service';

export const TARGET_LABELS: Record<TargetKind, string> = {
  service: 'full service',
  'service-loops': 'full service, loops auto',
  'bare-pipe': 'bare kafkajs pipe',
  'published-pipe': 'bare pipe on kafkajs as published',
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
  /** Where to write a V8 CPU profile of the child's main thread over the measured window; none when absent. */
  profilePath?: string;
  /** Model repository to serve from; the package's models/ when absent. */
  modelRepository?: string;
  /**
   * Service only: `experiments.challengers`, as `<variant>:<shadow|canary>:<model>@<version>:<share>`.
   * Their comparisons go to `<outputTopic>.comparisons`, which must exist.
   */
  challengers?: string[];
  /** Service only: input.format and output.format; the service's default (plain Avro) when absent. */
  format?: RecordFormat;
  /** Service only: registry.urls, the schema registry format confluent reads and writes through. */
  registryUrl?: string;
  /** Service only: the `monitoring` settings; their alerts and monitoring topics must exist. Off when absent. */
  monitoring?: MonitoringSetting;
  /** Service with loops only: input.loops; auto when absent. */
  loops?: number | 'auto';
  /** Service only: model.workers; the service's default (auto) when absent. */
  workers?: number | 'auto';
}

/** The service's `monitoring` section, as a target config carries it. */
export type MonitoringSetting = NonNullable<ConfigInput['monitoring']>;

/** How the service reads its input and writes its output: plain Avro, or the Confluent wire format. */
export type RecordFormat = 'avro' | 'confluent';

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
  /**
   * CPU of the main thread alone per published record (Linux's per-thread accounting); undefined where
   * /proc does not tell. The rest of cpuMicrosPerOutput is other threads: inference workers, V8, libuv.
   */
  mainThreadCpuMicrosPerOutput?: number;
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
  /** Service only: what became of the rows given to shadow challengers (comparison statuses). */
  shadowRows: ShadowRowCounts;
  /**
   * How the child ended when it did not exit cleanly after reporting these figures (a signal or an exit
   * code): the measurements stand, the failure to stop is reported beside them.
   */
  uncleanStop?: string;
}

/** Rows a shadow was given, by what became of them: scored, too late, failed, or shed under load. */
export interface ShadowRowCounts {
  ok: number;
  timeout: number;
  error: number;
  shed: number;
}

export type ParentMessage = { type: 'mark' } | { type: 'stop' };
export type ChildMessage =
  | { type: 'ready' }
  | { type: 'sample'; sample: ResourceSample }
  /** Sent before the target stops, so a failure while stopping cannot take the measurements with it. */
  | { type: 'measured'; stats: TargetStats };

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
  let measured: TargetStats | undefined;

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
      } else if (message.type === 'measured') {
        measured = message.stats;
      } else if (message.type === 'ready') {
        clearTimeout(timer);
        resolve({
          kind,
          samples,
          mark: () => child.send({ type: 'mark' } satisfies ParentMessage),
          // Resolves once the child has exited, so the next run never shares the CPU with this one's shutdown.
          stop: () =>
            new Promise<TargetStats>((resolveStop, rejectStop) => {
              child.removeAllListeners('exit');
              child.once('exit', (code, signal) => {
                if (!measured) {
                  rejectStop(
                    new Error(`${kind} exited (${signal ?? `code ${code}`}) before reporting its figures`),
                  );
                } else if (code === 0) {
                  resolveStop(measured);
                } else {
                  const uncleanStop = signal ?? `exit code ${code}`;
                  process.stderr.write(`  warning: ${kind} ended with ${uncleanStop} while stopping\n`);
                  resolveStop({ ...measured, uncleanStop });
                }
              });
              child.send({ type: 'stop' } satisfies ParentMessage);
            }),
        });
      }
    });
  });
}
