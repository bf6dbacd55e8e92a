/**
 * Real `streamscore serve` processes for the fault tests: started through the CLI like an operator would,
 * their JSON log lines captured, and stopped the ways production stops them (SIGTERM from an orchestrator,
 * SIGKILL from the OOM killer or a node failure). Also bounces the local broker through
 * scripts/kafka/kafka.sh, so a test can take Kafka away from a running service.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { packagePath } from '../../src/config/index.js';

export type LogLine = Readonly<Record<string, unknown>> & { readonly msg?: string; readonly time?: number };

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() when the process was seen to exit. */
  at: number;
}

export interface ServiceProcess {
  /** The test's name for this instance, for messages. */
  readonly name: string;
  readonly pid: number;
  /** Date.now() when the process was spawned. */
  readonly startedAt: number;
  /** Every stdout line parsed as JSON (non-JSON lines are kept under `raw`), in order. */
  readonly logs: readonly LogLine[];
  /** stderr as it came, for failure messages. */
  readonly stderr: () => string;
  readonly exited: Promise<ProcessExit>;
  running(): boolean;
  /** Resolves with the first log line (already seen or still to come) that matches. */
  waitForLog(matches: string | ((line: LogLine) => boolean), timeoutMs: number): Promise<LogLine>;
  /** SIGKILL: no handler runs, nothing is flushed or committed. */
  kill(): Promise<ProcessExit>;
  /** SIGTERM, then waits for the exit; `elapsedMs` is signal to exit. */
  terminate(timeoutMs: number): Promise<ProcessExit & { elapsedMs: number }>;
}

const CLI = ['--import', 'tsx', packagePath('src/cli/main.ts')];
const started = new Set<ServiceProcess>();

/**
 * The environment of one instance. ADMIN_PORT 0 lets every instance pick a free admin port, so several can
 * run side by side. OpenTelemetry is off: there is no collector here, and its export errors would drown the
 * errors the fault tests look for.
 */
export function serviceEnvironment(settings: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('STREAMSCORE_')),
  );
  return {
    ...inherited,
    STREAMSCORE_ADMIN_PORT: '0',
    STREAMSCORE_LOG_LEVEL: 'info',
    STREAMSCORE_LOG_PRETTY: 'false',
    OTEL_SDK_DISABLED: 'true',
    ...settings,
  };
}

function describeLog(line: LogLine): string {
  return JSON.stringify(line).slice(0, 300);
}

export function startServiceProcess(name: string, env: NodeJS.ProcessEnv): ServiceProcess {
  const child: ChildProcess = spawn(process.execPath, [...CLI, 'serve'], {
    env,
    cwd: packagePath(''),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${name}: could not spawn streamscore serve`);
  const pid = child.pid;
  const logs: LogLine[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  let exit: ProcessExit | undefined;

  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      line = { raw: text, time: Date.now() };
    }
    logs.push(line);
    for (const wake of waiters) wake();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal, at: Date.now() };
      for (const wake of waiters) wake();
      resolve(exit);
    });
  });

  const matcher = (matches: string | ((line: LogLine) => boolean)) =>
    typeof matches === 'string' ? (line: LogLine) => line.msg === matches : matches;

  const service: ServiceProcess = {
    name,
    pid,
    startedAt: Date.now(),
    logs,
    stderr: () => stderr,
    exited,
    running: () => exit === undefined,
    waitForLog(matches, timeoutMs) {
      const test = matcher(matches);
      return new Promise<LogLine>((resolve, reject) => {
        let searched = 0;
        const check = () => {
          for (; searched < logs.length; searched++) {
            const line = logs[searched]!;
            if (test(line)) return finish(() => resolve(line));
          }
          if (exit) {
            const tail = logs.slice(-5).map(describeLog).join('\n');
            return finish(() =>
              reject(
                new Error(
                  `${name} (pid ${pid}) exited (code ${exit?.code}, signal ${exit?.signal}) before logging ` +
                    `${String(matches)}; stderr: ${stderr.slice(-2_000)}\nlast log lines:\n${tail}`,
                ),
              ),
            );
          }
        };
        const timer = setTimeout(
          () =>
            finish(() =>
              reject(new Error(`${name} (pid ${pid}) did not log ${String(matches)} within ${timeoutMs} ms`)),
            ),
          timeoutMs,
        );
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
    async kill() {
      if (exit) return exit;
      child.kill('SIGKILL');
      return exited;
    },
    async terminate(timeoutMs) {
      if (exit) return { ...exit, elapsedMs: 0 };
      const signalledAt = Date.now();
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        exited,
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (outcome === undefined) {
        // Still alive past the caller's patience: report it as such, then make sure it dies.
        child.kill('SIGKILL');
        const killed = await exited;
        return { ...killed, elapsedMs: Number.POSITIVE_INFINITY };
      }
      return { ...outcome, elapsedMs: outcome.at - signalledAt };
    },
  };
  started.add(service);
  void exited.then(() => started.delete(service));
  return service;
}

/** SIGKILLs every service process this module started that is still alive (test teardown). */
export async function killStartedServices(): Promise<void> {
  await Promise.all([...started].map((service) => service.kill()));
}

/** The first log line of a kind, or undefined. */
export function findLog(service: ServiceProcess, message: string): LogLine | undefined {
  return service.logs.find((line) => line.msg === message);
}

/** Log lines at error level or above (pino: 50 = error, 60 = fatal). */
export function errorLogs(service: ServiceProcess): LogLine[] {
  return service.logs.filter((line) => typeof line.level === 'number' && line.level >= 50);
}

const run = promisify(execFile);

/**
 * One `streamscore <args>` command run to its end as a separate process from the TypeScript sources, as an
 * operator runs it; rejects with its stdout, stderr and exit code when it fails.
 */
export function runStreamscore(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [...CLI, ...args], { env, cwd: packagePath(''), maxBuffer: 1 << 24 });
}

// ---------------------------------------------------------------------------------------------- broker

function localPort(brokers: readonly string[]): string {
  const [host, port] = (brokers[0] ?? '').split(':');
  if (brokers.length !== 1 || (host !== '127.0.0.1' && host !== 'localhost') || !port) {
    throw new Error(
      `bouncing the broker needs the one local broker that scripts/kafka/kafka.sh runs; KAFKA_BROKERS is ${brokers.join(',')}`,
    );
  }
  return port;
}

function portAnswers(port: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port), timeout: 1_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function kafkaScript(command: 'start' | 'stop', port: string): Promise<string> {
  const { stdout, stderr } = await run('bash', ['scripts/kafka/kafka.sh', command], {
    cwd: packagePath(''),
    env: { ...process.env, KAFKA_PORT: port },
    timeout: 120_000,
  });
  return `${stdout}${stderr}`;
}

/**
 * Stops the local broker with a controlled shutdown (SIGTERM through kafka.sh). Refuses to pretend: if a
 * broker still answers on the port afterwards (it was not started by kafka.sh from this checkout), throws.
 */
export async function stopBroker(brokers: readonly string[]): Promise<void> {
  const port = localPort(brokers);
  const output = await kafkaScript('stop', port);
  if (await portAnswers(port)) {
    throw new Error(`kafka.sh stop did not stop the broker on port ${port}: ${output.trim()}`);
  }
}

/** Starts the local broker again; kafka.sh returns once it serves requests. */
export async function startBroker(brokers: readonly string[]): Promise<void> {
  await kafkaScript('start', localPort(brokers));
}
