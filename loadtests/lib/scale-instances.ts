/**
 * The service instances of the scale-out benchmark: processes that serve as `streamscore serve` does
 * (targets/scale-instance.ts: settings from the environment, the CLI's runtime), so a SIGTERM takes the
 * service's own graceful path (finish the batches in flight, commit, leave the group) and a SIGKILL none.
 * The harness reads their CPU from /proc/<pid>/stat (every thread, user + system, exited threads
 * included), which needs nothing from the instance and still holds for one about to be killed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { packagePath } from '../../src/config/index.js';
import type { InstanceTopics } from './scale-topics.js';

/** At-least-once is the service's default; exactly-once is `output.exactlyOnce` (read_committed readers). */
export type DeliveryMode = 'at-least-once' | 'exactly-once';

export const DELIVERY_MODES: readonly DeliveryMode[] = ['at-least-once', 'exactly-once'];

/** Settings that differ from the service's defaults; none in a full run. */
export interface InstanceSettings {
  /** input.sessionTimeoutMs: how long the group waits for a member that stopped heartbeating. */
  sessionTimeoutMs?: number;
}

export interface InstanceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** performance.now() when the harness saw the process exit. */
  atMs: number;
}

/** The log lines the benchmark reads, with the instance's own clock (Date.now()) converted to performance.now(). */
export interface InstanceEvent {
  atMs: number;
  msg: InstanceEventKind;
}

export interface ServiceInstance {
  readonly name: string;
  /** The client id it joins the group with. */
  readonly clientId: string;
  /** performance.now() at spawn. */
  readonly spawnedAtMs: number;
  /** Its log lines of the kinds in EVENTS, in order. */
  readonly events: readonly InstanceEvent[];
  /** Log lines at error level or above, for the results: an instance that logged errors says so. */
  readonly errors: readonly string[];
  /** performance.now() of its first log line `msg` (one of EVENTS), once there is one. */
  when(msg: InstanceEventKind): Promise<number>;
  /** CPU time so far in microseconds, every thread; the last value read once the process is gone. */
  cpuMicros(): number;
  /** SIGTERM, then the exit; escalates to SIGKILL past `timeoutMs` (the exit then says so). */
  terminate(timeoutMs: number): Promise<InstanceExit>;
  kill(): Promise<InstanceExit>;
}

/**
 * The log lines the benchmark times things by: the model is loaded and the instance is about to join the
 * group; it joined a generation (one line per rebalance it took part in); it is fetching.
 */
export const EVENTS = ['model loaded', 'joined consumer group', 'scoring'] as const;
export type InstanceEventKind = (typeof EVENTS)[number];

const TARGET = ['--import', 'tsx', packagePath('loadtests/targets/scale-instance.ts')];
/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
const TICKS_PER_SECOND = 100;
const READY_TIMEOUT_MS = 120_000;
/** pino's level number for error. */
const ERROR_LEVEL = 50;
const started = new Set<ServiceInstance>();

/** utime + stime of the process (fields 14 and 15 of /proc/<pid>/stat), in microseconds. */
function processCpuMicros(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after it are plain numbers.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1e6) / TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}

const sinceOrigin = (epochMs: number) => epochMs - performance.timeOrigin;
const clientIdOf = (name: string) => `streamscore-${name}`;

/**
 * The instance's environment: default settings but for the topics, the group, the model, hot reload off
 * (nothing publishes models during a benchmark, as in the other targets), an admin port of its own, info
 * logs (the group joins are read from them; nothing is logged per record) and OpenTelemetry off.
 */
function instanceEnvironment(
  topics: InstanceTopics,
  name: string,
  mode: DeliveryMode,
  settings: InstanceSettings,
): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([variable]) => !variable.startsWith('STREAMSCORE_')),
  );
  return {
    ...inherited,
    STREAMSCORE_KAFKA_BROKERS: topics.brokers.join(','),
    STREAMSCORE_KAFKA_CLIENT_ID: clientIdOf(name),
    STREAMSCORE_INPUT_TOPIC: topics.input,
    STREAMSCORE_INPUT_GROUP_ID: topics.groupId,
    STREAMSCORE_OUTPUT_TOPIC: topics.output,
    STREAMSCORE_OUTPUT_EXACTLY_ONCE: String(mode === 'exactly-once'),
    STREAMSCORE_MODEL_NAME: topics.model,
    STREAMSCORE_MODEL_POLL_INTERVAL_MS: '0',
    STREAMSCORE_ADMIN_PORT: '0',
    STREAMSCORE_LOG_LEVEL: 'info',
    STREAMSCORE_LOG_PRETTY: 'false',
    OTEL_SDK_DISABLED: 'true',
    ...(settings.sessionTimeoutMs === undefined
      ? {}
      : { STREAMSCORE_INPUT_SESSION_TIMEOUT_MS: String(settings.sessionTimeoutMs) }),
  };
}

export function startInstance(
  topics: InstanceTopics,
  name: string,
  mode: DeliveryMode,
  settings: InstanceSettings = {},
): ServiceInstance {
  const child: ChildProcess = spawn(process.execPath, TARGET, {
    env: instanceEnvironment(topics, name, mode, settings),
    cwd: packagePath(''),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (child.pid === undefined) throw new Error(`${name}: could not spawn a service instance`);
  const pid = child.pid;
  const spawnedAtMs = performance.now();
  const events: InstanceEvent[] = [];
  const errors: string[] = [];
  const waiters = new Set<() => void>();
  let exit: InstanceExit | undefined;
  let lastCpu = 0;

  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: { msg?: unknown; time?: unknown; level?: unknown };
    try {
      line = JSON.parse(text) as typeof line;
    } catch {
      return;
    }
    const kind = EVENTS.find((candidate) => candidate === line.msg);
    if (kind) {
      const atMs = typeof line.time === 'number' ? sinceOrigin(line.time) : performance.now();
      events.push({ atMs, msg: kind });
      for (const wake of waiters) wake();
    }
    if (typeof line.level === 'number' && line.level >= ERROR_LEVEL) errors.push(text.slice(0, 500));
  });
  const exited = new Promise<InstanceExit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal, atMs: performance.now() };
      for (const wake of waiters) wake();
      resolve(exit);
    });
  });

  const instance: ServiceInstance = {
    name,
    clientId: clientIdOf(name),
    spawnedAtMs,
    events,
    errors,
    when(msg) {
      return new Promise<number>((resolve, reject) => {
        const timer = setTimeout(
          () => finish(() => reject(new Error(`${name} logged no '${msg}' within ${READY_TIMEOUT_MS} ms`))),
          READY_TIMEOUT_MS,
        );
        const check = () => {
          const event = events.find((candidate) => candidate.msg === msg);
          if (event) finish(() => resolve(event.atMs));
          else if (exit) {
            const how = exit.signal ?? `code ${exit.code}`;
            finish(() => reject(new Error(`${name} exited (${how}) before logging '${msg}'`)));
          }
        };
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
    cpuMicros() {
      if (exit) return lastCpu;
      lastCpu = processCpuMicros(pid) ?? lastCpu;
      return lastCpu;
    },
    async terminate(timeoutMs) {
      if (exit) return exit;
      instance.cpuMicros();
      child.kill('SIGTERM');
      const escalate = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const ended = await exited;
      clearTimeout(escalate);
      return ended;
    },
    async kill() {
      if (exit) return exit;
      instance.cpuMicros();
      child.kill('SIGKILL');
      return exited;
    },
  };
  started.add(instance);
  void exited.then(() => started.delete(instance));
  return instance;
}

/** Starts the instances at once and waits until each is scoring. */
export async function startInstances(
  topics: InstanceTopics,
  names: readonly string[],
  mode: DeliveryMode,
  settings: InstanceSettings = {},
): Promise<ServiceInstance[]> {
  const instances = names.map((name) => startInstance(topics, name, mode, settings));
  try {
    await Promise.all(instances.map((instance) => instance.when('scoring')));
  } catch (error) {
    await Promise.all(instances.map((instance) => instance.kill()));
    throw error;
  }
  return instances;
}

/** How long a graceful stop may take before the harness kills the instance (the service's own deadline is 20 s). */
export const TERMINATE_TIMEOUT_MS = 30_000;

/** SIGTERM to each, in parallel; the exits. */
export const terminateAll = (instances: readonly ServiceInstance[]) =>
  Promise.all(instances.map((instance) => instance.terminate(TERMINATE_TIMEOUT_MS)));

/** Kills every instance still running: a benchmark that failed must not leave scorers on the machine. */
export async function killStartedInstances(): Promise<void> {
  await Promise.all([...started].map((instance) => instance.kill()));
}
