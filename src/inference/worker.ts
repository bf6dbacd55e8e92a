/**
 * An inference worker thread: holds onnxruntime sessions keyed by model version and scores the batches
 * the main thread sends. onnxruntime's run() blocks its thread, so it blocks this one, never the thread
 * that heartbeats to Kafka.
 */
import { parentPort } from 'node:worker_threads';
import { StreamscoreError } from '../errors/index.js';
import type { WorkerRequest, WorkerResponse } from './protocol.js';
import { createScoringSession, type ScoringSession } from './session.js';

const port = parentPort;
if (!port) throw new Error('inference worker started outside a worker thread');

const sessions = new Map<string, ScoringSession>();

async function handle(request: WorkerRequest): Promise<WorkerResponse> {
  switch (request.type) {
    case 'load': {
      const session = await createScoringSession(
        { manifest: request.manifest, directory: '', bytes: request.bytes },
        request.options,
      );
      sessions.set(request.key, session);
      return { id: request.id, ok: true };
    }
    case 'score': {
      const session = sessions.get(request.key);
      if (!session)
        throw new StreamscoreError('INFERENCE_FAILED', `model ${request.key} is not loaded in this worker`);
      return { id: request.id, ok: true, scores: await session.score(request.features, request.rows) };
    }
    case 'release': {
      const session = sessions.get(request.key);
      sessions.delete(request.key);
      await session?.release();
      return { id: request.id, ok: true };
    }
  }
}

port.on('message', (request: WorkerRequest) => {
  handle(request).then(
    (response) =>
      port.postMessage(
        response,
        response.ok && response.scores ? [response.scores.buffer as ArrayBuffer] : [],
      ),
    (error: unknown) => {
      // Only the code and the message cross the thread boundary (errorFromCode rebuilds the error), so
      // session.ts puts onnxruntime's explanation into the message itself, never only into the cause.
      const code = error instanceof StreamscoreError ? error.code : 'INFERENCE_FAILED';
      const message = error instanceof Error ? error.message : String(error);
      port.postMessage({ id: request.id, ok: false, code, message } satisfies WorkerResponse);
    },
  );
});
