/**
 * Retrying what failed because of the infrastructure: exponential backoff with full jitter, capped, until
 * it succeeds, the error is one retrying cannot fix, or the process is stopping. The first attempt always
 * runs, so work in flight at shutdown still gets its chance to finish.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import { StreamscoreError } from '../errors/index.js';

// Named imports cannot see kafkajs's errors: they are spread into its CommonJS exports.
const { KafkaJSError } = kafkajs;

export interface RetryOptions {
  initialMs: number;
  maxMs: number;
  /** Aborted when the process stops: no further attempt is made. */
  signal: AbortSignal;
  /** Errors retrying cannot fix (a lost partition, a bad record): rethrown at once. */
  isFinal?: (error: unknown) => boolean;
  onRetry?: (error: unknown, attempt: number, waitMs: number) => void;
}

/**
 * A mistake in the code, not a failure around it: retrying would repeat it forever. The process should
 * stop instead, with its offsets where they are, and be restarted by its orchestrator.
 */
export function isProgrammingError(error: unknown): boolean {
  return (
    error instanceof TypeError ||
    error instanceof RangeError ||
    error instanceof ReferenceError ||
    error instanceof SyntaxError
  );
}

/** An error kafkajs marks retriable: the cluster is moving (a leader elected, a topic not yet known). */
export function isRetriableKafkaError(error: unknown): boolean {
  return error instanceof KafkaJSError && error.retriable;
}

function stopping(cause: unknown): StreamscoreError {
  return new StreamscoreError('SHUTTING_DOWN', 'stopping; the batch is left uncommitted', { cause });
}

export async function retryUntilDone<T>(operation: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (isProgrammingError(error) || options.isFinal?.(error)) throw error;
      if (options.signal.aborted) throw stopping(error);
      const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** (attempt - 1));
      const waitMs = Math.round(Math.random() * ceiling);
      options.onRetry?.(error, attempt, waitMs);
      await sleep(waitMs, undefined, { signal: options.signal }).catch(() => undefined);
      if (options.signal.aborted) throw stopping(error);
    }
  }
}
