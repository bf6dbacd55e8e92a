/** What every command needs: the validated configuration, a logger, and a clean way to stop on a signal. */
import { type Config, type ConfigInput, loadConfig } from '../config/index.js';
import { type RunningService, type ServiceOptions, startService } from '../service/index.js';
import { createLogger, type Logger } from '../telemetry/index.js';

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

/**
 * Starts the service; resolves undefined when `signal` aborts it while it starts (a SIGTERM while joining
 * the group), so the signal handler, not a start-up error, decides how the process exits. A crash kafkajs
 * gives up on, or a programming error, exits 1 with the offsets where they were.
 */
export async function startUnlessStopped(
  { config, logger }: Runtime,
  signal: AbortSignal,
  options: Omit<ServiceOptions, 'signal' | 'onFatal'> = {},
): Promise<RunningService | undefined> {
  try {
    return await startService(config, logger, { ...options, signal, onFatal: () => process.exit(1) });
  } catch (error) {
    if (signal.aborted) return undefined;
    throw error;
  }
}
