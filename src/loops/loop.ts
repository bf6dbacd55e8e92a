/**
 * One consumer loop on its own thread: the whole service (its own group member, producers, model pool,
 * telemetry providers) answering the process's admin requests through messages instead of a server.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type AdminResponse, dispatch } from '../admin/index.js';
import { StreamscoreError } from '../errors/index.js';
import { type RunningService, startService } from '../service/index.js';
import { createLogger, startProcessTelemetry } from '../telemetry/index.js';
import type { HostMessage, LoopData, LoopMessage } from './protocol.js';

const { config, index, version, adminUrl, process: membership } = workerData as LoopData;
const host = parentPort;
if (!host) throw new Error('src/loops/loop.ts runs as a worker thread of startLoops');
const post = (message: LoopMessage) => host.postMessage(message);

const logger = createLogger(config.log).child({ loop: index });
const telemetry = startProcessTelemetry(version, { 'streamscore.loop': index });
const stopping = new AbortController();
let running: RunningService | undefined;
let stopped: Promise<void> | undefined;

const STARTING: AdminResponse = { status: 503, body: { error: `loop ${index} is starting`, starting: true } };

const stop = () => {
  stopped ??= (async () => {
    stopping.abort();
    try {
      await running?.stop();
    } finally {
      await telemetry.shutdown();
    }
  })();
  return stopped;
};

let joinNow: () => void = () => undefined;
const joinSignal = new Promise<void>((resolve) => {
  joinNow = resolve;
});

host.on('message', (message: HostMessage) => {
  if (message.type === 'join') {
    joinNow();
    return;
  }
  if (message.type === 'stop') {
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'unclean stop');
        process.exit(1);
      },
    );
    return;
  }
  const answer = running ? dispatch(running.routes, message.request) : Promise.resolve(STARTING);
  void answer.then((response) => post({ type: 'response', id: message.id, response }));
});

try {
  running = await startService(config, logger, {
    telemetry,
    version,
    signal: stopping.signal,
    routesServedAt: adminUrl,
    process: membership,
    beforeJoin: () => {
      post({ type: 'prepared' });
      return joinSignal;
    },
    // Ends this thread only; the process sees the exit and stops the other loops.
    onFatal: () => process.exit(1),
  });
  post({ type: 'started' });
} catch (error) {
  // A stop while starting is the process's to report; anything else ends the start of every loop.
  if (!stopping.signal.aborted) {
    const code = error instanceof StreamscoreError ? error.code : undefined;
    post({ type: 'failed', code, message: error instanceof Error ? error.message : String(error) });
  }
  await telemetry.shutdown();
  process.exit(stopping.signal.aborted ? 0 : 1);
}
