/**
 * Where onnxruntime runs. The worker pool keeps run() off the main thread, which does Kafka, Avro and
 * routing; the in-thread executor exists to measure what the pool buys (and for one-core machines).
 * Both hold the same sessions under the same keys, so the batcher above does not know which it uses.
 */
import type { Worker } from 'node:worker_threads';
import { errorFromCode, StreamscoreError } from '../errors/index.js';
import type { FeatureRows } from '../features/index.js';
import type { ModelArtifact } from '../models/index.js';
import { availableCores, startModuleWorker } from '../threads/index.js';
import type { WorkerRequest, WorkerResponse } from './protocol.js';
import { createScoringSession, type ScoringSession, type SessionOptions } from './session.js';

export interface Executor {
  /** 0 when onnxruntime runs on the main thread. */
  readonly threads: number;
  /** Loads and verifies a model version (signature, warm-up) under `key` on every thread. */
  load(key: string, artifact: ModelArtifact): Promise<void>;
  /**
   * Takes ownership of `features`' whole buffer: a worker pool transfers it to the worker thread.
   * Background work (a shadow's) waits for an idle worker, so it never queues ahead of a decision's.
   */
  score(key: string, features: FeatureRows, rows: number, background?: boolean): Promise<Float32Array>;
  release(key: string): Promise<void>;
  close(): Promise<void>;
}

export interface ExecutorOptions extends SessionOptions {
  /** Worker threads; 0 runs onnxruntime on the main thread; auto leaves one core to the main thread. */
  workers: number | 'auto';
}

export function createExecutor(options: ExecutorOptions): Executor {
  const workers = options.workers === 'auto' ? Math.max(1, availableCores() - 1) : options.workers;
  return workers === 0 ? new InThreadExecutor(options) : new WorkerPool(workers, options);
}

class InThreadExecutor implements Executor {
  readonly threads = 0;
  readonly #sessions = new Map<string, ScoringSession>();

  constructor(private readonly options: SessionOptions) {}

  async load(key: string, artifact: ModelArtifact): Promise<void> {
    this.#sessions.set(key, await createScoringSession(artifact, this.options));
  }

  score(key: string, features: FeatureRows, rows: number): Promise<Float32Array> {
    const session = this.#sessions.get(key);
    if (!session)
      return Promise.reject(new StreamscoreError('INFERENCE_FAILED', `model ${key} is not loaded`));
    return session.score(features, rows);
  }

  async release(key: string): Promise<void> {
    const session = this.#sessions.get(key);
    this.#sessions.delete(key);
    await session?.release();
  }

  async close(): Promise<void> {
    await Promise.all([...this.#sessions.keys()].map((key) => this.release(key)));
  }
}

interface Pending {
  resolve(response: WorkerResponse & { ok: true }): void;
  reject(error: Error): void;
}

interface PooledWorker {
  worker: Worker;
  inFlight: number;
  pending: Map<number, Pending>;
}

class WorkerPool implements Executor {
  readonly threads: number;
  readonly #workers: PooledWorker[] = [];
  readonly #loaded = new Map<string, ModelArtifact>();
  /** Background calls waiting for a worker with nothing in flight. */
  readonly #waitingForIdle: (() => void)[] = [];
  /** Every request sent and not answered: close() lets them finish. */
  readonly #unanswered = new Set<Promise<unknown>>();
  #nextId = 0;
  #closing = false;

  constructor(
    count: number,
    private readonly options: SessionOptions,
  ) {
    this.threads = count;
    for (let index = 0; index < count; index++) this.#workers.push(this.#spawn());
  }

  #spawn(): PooledWorker {
    const pooled: PooledWorker = {
      worker: startModuleWorker(new URL('./worker.js', import.meta.url)),
      inFlight: 0,
      pending: new Map(),
    };
    pooled.worker.on('message', (response: WorkerResponse) => {
      const pending = pooled.pending.get(response.id);
      if (!pending) return;
      pooled.pending.delete(response.id);
      pooled.inFlight -= 1;
      if (pooled.inFlight === 0) this.#waitingForIdle.shift()?.();
      if (response.ok) pending.resolve(response);
      else pending.reject(errorFromCode(response.code, response.message));
    });
    pooled.worker.on('error', (error) => this.#replace(pooled, error));
    pooled.worker.on('exit', (code) => {
      if (!this.#closing) this.#replace(pooled, new Error(`inference worker exited with code ${code}`));
    });
    return pooled;
  }

  /** A worker that died takes its batches with it (they fail, to be retried); a fresh one takes its place. */
  #replace(pooled: PooledWorker, cause: Error): void {
    const index = this.#workers.indexOf(pooled);
    if (index < 0 || this.#closing) return;
    for (const pending of pooled.pending.values()) {
      pending.reject(new StreamscoreError('INFERENCE_FAILED', 'inference worker failed', { cause }));
    }
    pooled.pending.clear();
    void pooled.worker.terminate();
    const fresh = this.#spawn();
    this.#workers[index] = fresh;
    this.#waitingForIdle.shift()?.();
    for (const [key, artifact] of this.#loaded)
      this.#send(fresh, this.#loadRequest(key, artifact)).catch(() => undefined);
  }

  #loadRequest(key: string, artifact: ModelArtifact): WorkerRequest {
    const { manifest, bytes } = artifact;
    return { type: 'load', id: 0, key, manifest, bytes, options: this.options };
  }

  #send(
    pooled: PooledWorker,
    request: WorkerRequest,
    transfer: ArrayBuffer[] = [],
  ): Promise<WorkerResponse & { ok: true }> {
    if (this.#closing)
      return Promise.reject(new StreamscoreError('SHUTTING_DOWN', 'inference workers are closing'));
    const id = ++this.#nextId;
    const answered = new Promise<WorkerResponse & { ok: true }>((resolve, reject) => {
      pooled.pending.set(id, { resolve, reject });
      pooled.inFlight += 1;
      pooled.worker.postMessage({ ...request, id }, transfer);
    });
    this.#unanswered.add(answered);
    const forget = () => this.#unanswered.delete(answered);
    answered.then(forget, forget);
    return answered;
  }

  async load(key: string, artifact: ModelArtifact): Promise<void> {
    const request = this.#loadRequest(key, artifact);
    const results = await Promise.allSettled(this.#workers.map((pooled) => this.#send(pooled, request)));
    const failure = results.find((result) => result.status === 'rejected');
    if (failure) {
      await this.release(key);
      throw failure.reason;
    }
    this.#loaded.set(key, artifact);
  }

  async score(key: string, features: FeatureRows, rows: number, background = false): Promise<Float32Array> {
    if (background && !this.#workers.some((pooled) => pooled.inFlight === 0)) {
      await new Promise<void>((resolve) => this.#waitingForIdle.push(resolve));
    }
    let least = this.#workers[0]!;
    for (const pooled of this.#workers) if (pooled.inFlight < least.inFlight) least = pooled;
    const response = await this.#send(least, { type: 'score', id: 0, key, features, rows }, [
      features.buffer as ArrayBuffer,
    ]);
    return response.scores!;
  }

  async release(key: string): Promise<void> {
    this.#loaded.delete(key);
    await Promise.allSettled(
      this.#workers.map((pooled) => this.#send(pooled, { type: 'release', id: 0, key })),
    );
  }

  async close(): Promise<void> {
    this.#closing = true;
    // Waiting background calls are refused; calls under way finish first: terminating a worker in the
    // middle of onnxruntime's run() aborts the whole process.
    for (const wake of this.#waitingForIdle.splice(0)) wake();
    await Promise.allSettled([...this.#unanswered]);
    await Promise.all(this.#workers.map((pooled) => pooled.worker.terminate()));
  }
}
