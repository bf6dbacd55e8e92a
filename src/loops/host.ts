/**
 * Several consumer loops in one process, the way Kafka Streams runs stream threads: each loop a worker
 * thread running the whole service as its own member of the input group, so the group hands each its share
 * of the partitions and every guarantee of one instance holds per loop. The process keeps what must be one:
 * the admin server (health and readiness over all loops, one /metrics, the model routes of loop 0, whose
 * decisions every loop follows through the control topic), the shutdown, and the exit code.
 */
import { randomUUID } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import { type AdminRequest, type AdminResponse, type AdminRoute, startAdminServer } from '../admin/index.js';
import type { Config } from '../config/index.js';
import { errorFromCode, StreamscoreError } from '../errors/index.js';
import type { Logger } from '../telemetry/index.js';
import { availableCores, startModuleWorker } from '../threads/index.js';
import { mergeExpositions } from './metrics.js';
import type { HostMessage, LoopData, LoopMessage } from './protocol.js';

export interface LoopsOptions {
  readonly count: number;
  /** Reported as streamscore_build_info. */
  readonly version: string;
  /** Aborting it while the loops start stops them: start rejects. */
  readonly signal?: AbortSignal;
  /** A loop stopped on its own (a fatal error); the others were stopped, the process should exit non-zero. */
  readonly onFatal: (error: Error) => void;
  /**
   * The module each loop thread runs: ./loop.js, the service, unless a test gives a stand-in that speaks
   * the same protocol (protocol.ts) to see what the process does when a loop misbehaves.
   */
  readonly loopModule?: URL;
}

export interface RunningLoops {
  readonly adminUrl: string;
  /** Stops every loop as one service stops, within shutdown.timeoutMs; rejects past it or if one fails. */
  stop(): Promise<void>;
}

/** input.loops as a number: auto is one loop per core this process may use. */
export function loopCount(setting: Config['input']['loops']): number {
  return setting === 'auto' ? availableCores() : setting;
}

/**
 * What each loop is given. model.workers counts each loop's inference workers; its auto, with a loop per
 * core, is 0: inference on the loop's own thread, which measured faster than a worker beside each loop
 * (two busy threads per core trading places, and a hop between them; README, "Consumer loops"). The
 * ground-truth join reads every partition of the labels and output topics, so one loop does it for the
 * process rather than each repeating it.
 */
export function loopConfig(config: Config, index: number): Config {
  return {
    ...config,
    input: { ...config.input, loops: 1 },
    model: { ...config.model, workers: config.model.workers === 'auto' ? 0 : config.model.workers },
    monitoring: { ...config.monitoring, labelsTopic: index === 0 ? config.monitoring.labelsTopic : '' },
  };
}

// Kubernetes gives a probe one second by default; a loop that cannot answer within it is not healthy.
const PROBE_ANSWER_MS = 900;
const SCRAPE_ANSWER_MS = 5_000;
const FORWARD_ANSWER_MS = 30_000;

interface Loop {
  readonly index: number;
  readonly worker: Worker;
  readonly exited: Promise<number>;
  readonly pending: Map<number, (response: AdminResponse) => void>;
  prepared: boolean;
  started: boolean;
}

export async function startLoops(
  config: Config,
  logger: Logger,
  options: LoopsOptions,
): Promise<RunningLoops> {
  const loops: Loop[] = [];
  let nextRequest = 0;
  let stopping = false;

  const ask = (loop: Loop, request: AdminRequest, timeoutMs: number): Promise<AdminResponse> =>
    new Promise((resolve) => {
      const id = nextRequest++;
      const timer = setTimeout(() => {
        loop.pending.delete(id);
        resolve({ status: 503, body: { error: `loop ${loop.index} did not answer within ${timeoutMs} ms` } });
      }, timeoutMs);
      loop.pending.set(id, (response) => {
        clearTimeout(timer);
        resolve(response);
      });
      loop.worker.postMessage({ type: 'request', id, request } satisfies HostMessage);
    });
  const askAll = (path: string, timeoutMs: number) =>
    Promise.all(
      loops.map((loop) => ask(loop, { method: 'GET', path, body: undefined, caller: 'process' }, timeoutMs)),
    );

  const routes = processRoutes(askAll);
  const admin = await startAdminServer(config.admin, routes, logger, (request) =>
    ask(loops[0]!, request, FORWARD_ANSWER_MS),
  );

  let settleStart: (error?: Error) => void = () => undefined;
  const allStarted = new Promise<void>((resolve, reject) => {
    settleStart = (error) => (error ? reject(error) : resolve());
  });
  allStarted.catch(() => undefined);

  let stopped: Promise<void> | undefined;
  const stopAll = () => {
    stopped ??= (async () => {
      stopping = true;
      for (const loop of loops) loop.worker.postMessage({ type: 'stop' } satisfies HostMessage);
      const codes = await withDeadline(
        Promise.all(loops.map((loop) => loop.exited)),
        config.shutdown.timeoutMs,
        () => Promise.all(loops.map((loop) => loop.worker.terminate())),
      );
      await admin.close();
      const failed = codes.flatMap((code, index) => (code === 0 ? [] : [index]));
      if (failed.length > 0)
        throw new StreamscoreError('SHUTTING_DOWN', `loops ${failed.join(', ')} did not stop cleanly`);
    })();
    return stopped;
  };

  const membership = { id: randomUUID(), loops: options.count };
  for (let index = 0; index < options.count; index++) {
    const data: LoopData = {
      config: loopConfig(config, index),
      index,
      version: options.version,
      adminUrl: admin.url,
      process: membership,
    };
    const worker = startModuleWorker(options.loopModule ?? new URL('./loop.js', import.meta.url), {
      workerData: data,
      name: `loop-${index}`,
    });
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    const loop: Loop = { index, worker, exited, pending: new Map(), prepared: false, started: false };
    loops.push(loop);
    worker.on('message', (message: LoopMessage) => {
      if (message.type === 'response') {
        loop.pending.get(message.id)?.(message.response);
        loop.pending.delete(message.id);
      } else if (message.type === 'prepared') {
        loop.prepared = true;
        if (loops.every((each) => each.prepared))
          for (const each of loops) each.worker.postMessage({ type: 'join' } satisfies HostMessage);
      } else if (message.type === 'started') {
        loop.started = true;
        if (loops.every((each) => each.started)) settleStart();
      } else {
        settleStart(message.code ? errorFromCode(message.code, message.message) : new Error(message.message));
      }
    });
    worker.on('error', (error) => logger.error({ err: error, loop: index }, 'loop thread failed'));
    void exited.then((code) => {
      if (stopping) return;
      const error = new StreamscoreError('SHUTTING_DOWN', `loop ${index} stopped (exit code ${code})`);
      settleStart(error);
      if (!loops.every((each) => each.started)) return;
      logger.error({ loop: index, code }, 'a loop stopped on its own; stopping the others');
      stopAll().then(
        () => options.onFatal(error),
        () => options.onFatal(error),
      );
    });
  }

  const onAbort = () => settleStart(new StreamscoreError('SHUTTING_DOWN', 'stopped while starting'));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  try {
    await allStarted;
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  logger.info(
    { loops: options.count, topic: config.input.topic, group: config.input.groupId, admin: admin.url },
    'scoring',
  );
  return { adminUrl: admin.url, stop: stopAll };
}

async function withDeadline<T>(
  work: Promise<T>,
  timeoutMs: number,
  onExpiry: () => Promise<unknown>,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void onExpiry();
      reject(new StreamscoreError('SHUTTING_DOWN', `graceful stop exceeded ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

type AskAll = (path: string, timeoutMs: number) => Promise<AdminResponse[]>;

/** Health and readiness hold for the process when they hold for every loop; metrics are merged. */
function processRoutes(askAll: AskAll): AdminRoute[] {
  const live: AdminRoute['handle'] = async () => {
    const answers = await askAll('/healthz', PROBE_ANSWER_MS);
    // A loop still starting answers, and that is all liveness asks.
    const alive = answers.every(
      ({ status, body }) => status === 200 || (body as { starting?: boolean }).starting === true,
    );
    return { status: alive ? 200 : 503, body: { alive, loops: answers.map(({ body }) => body) } };
  };
  const ready: AdminRoute['handle'] = async () => {
    const answers = await askAll('/readyz', PROBE_ANSWER_MS);
    const reasons = answers.flatMap(({ status, body }, index) => {
      if (status === 200) return [];
      const said = body as { reasons?: string[]; error?: string };
      return (said.reasons ?? [said.error ?? `status ${status}`]).map((reason) => `loop ${index}: ${reason}`);
    });
    const isReady = reasons.length === 0;
    return { status: isReady ? 200 : 503, body: { ready: isReady, reasons } };
  };
  const metrics: AdminRoute['handle'] = async () => {
    const answers = await askAll('/metrics', SCRAPE_ANSWER_MS);
    const texts = answers.filter(({ status }) => status === 200).map(({ body }) => String(body));
    if (texts.length === 0)
      return { status: 404, body: { error: 'metrics are not collected in this process' } };
    return {
      status: 200,
      body: mergeExpositions(texts),
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
    };
  };
  return [
    { method: 'GET', path: '/healthz', handle: live },
    { method: 'GET', path: '/v2/health/live', handle: live },
    { method: 'GET', path: '/readyz', handle: ready },
    { method: 'GET', path: '/v2/health/ready', handle: ready },
    { method: 'GET', path: '/metrics', handle: metrics },
  ];
}
