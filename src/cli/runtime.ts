/** What every command needs: the validated configuration, a logger, and a clean way to stop on a signal. */
import { type Config, type ConfigInput, loadConfig } from '../config/index.js';
import { loopCount, startLoops } from '../loops/index.js';
import { type RunningService, type ServiceOptions, startService } from '../service/index.js';
import { createLogger, type Logger, startProcessTelemetry } from '../telemetry/index.js';

export interface GlobalOptions {
  config?: string;
}

export interface Runtime {
  config: Config;
  logger: Logger;
}

export function createRuntime(options: GlobalOptions, overrides?: ConfigInput): Runtime {
  const config = loadConfig({ file: options.config, ...(overrides ? { overrides } : {}) });
  return { config, logger: createLogger(config.log) };
}

/**
 * For a command whose stdout is its report: logs go to stderr, and kafkajs's info lines (connecting,
 * joining, stopping) are noise beside a report, so the default level shows warnings and worse; debug and
 * trace still apply.
 */
export function createReportRuntime(options: GlobalOptions): Runtime {
  const config = loadConfig({ file: options.config });
  const level = config.log.level === 'info' ? 'warn' : config.log.level;
  return { config, logger: createLogger({ ...config.log, level }, process.stderr) };
}

/**
 * Runs `stop` on the first SIGINT or SIGTERM and exits when it settles; a second signal exits at once,
 * for the operator who really means it.
 */
export function onShutdownSignal(logger: Logger, stop: (signal: NodeJS.Signals) => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal, exiting now');
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, 'stopping');
    stop(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}

async function unlessStopped<T>(signal: AbortSignal, start: () => Promise<T>): Promise<T | undefined> {
  try {
    return await start();
  } catch (error) {
    if (signal.aborted) return undefined;
    throw error;
  }
}

const exitOnFatal = () => process.exit(1);

/**
 * Starts one service; resolves undefined when `signal` aborts it while it starts (a SIGTERM while joining
 * the group), so the signal handler, not a start-up error, decides how the process exits. A crash kafkajs
 * gives up on, or a programming error, exits 1 with the offsets where they were.
 */
export function startUnlessStopped(
  { config, logger }: Runtime,
  signal: AbortSignal,
  options: Omit<ServiceOptions, 'signal' | 'onFatal'> = {},
): Promise<RunningService | undefined> {
  return unlessStopped(signal, () =>
    startService(config, logger, { ...options, signal, onFatal: exitOnFatal }),
  );
}

/** What `serve` runs: one service, or input.loops loops behind one admin server. */
export interface Serving {
  stop(): Promise<void>;
}

/**
 * As startUnlessStopped, with as many consumer loops as input.loops says, and the process's telemetry: one
 * loop uses the process's providers; several loops have their own each, and the process none.
 */
export async function serveUnlessStopped(
  runtime: Runtime,
  signal: AbortSignal,
  version: string,
): Promise<Serving | undefined> {
  const count = loopCount(runtime.config.input.loops);
  if (count > 1) {
    const { config, logger } = runtime;
    return unlessStopped(signal, () =>
      startLoops(config, logger, { count, version, signal, onFatal: exitOnFatal }),
    );
  }
  const telemetry = startProcessTelemetry(version);
  const service = await startUnlessStopped(runtime, signal, { telemetry, version }).catch(
    async (error: unknown) => {
      await telemetry.shutdown();
      throw error;
    },
  );
  if (!service) {
    await telemetry.shutdown();
    return undefined;
  }
  return { stop: () => service.stop().finally(() => telemetry.shutdown()) };
}
