/**
 * A consumer of one topic, from its beginning, on a worker thread of its own (lib/reader-worker.ts), for the
 * latency benchmarks' readers. On the generator's thread, a reader's fetch responses wait behind the
 * generator's ticks and sends: at 1,000 events/s, an idle kafkajs consumer there saw append → fetch at a mean
 * of 5.8 ms while one on a thread of its own saw 3.3 ms and one in a process of its own 3.6 ms (the three at
 * once, beside the generator), which the harness would otherwise charge to the system under test.
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../../src/threads/index.js';

/** A fetched batch as the worker packs it: every value copied once into one transferred buffer. */
export interface PackedBatch {
  type: 'batch';
  /** When the batch reached the worker, as performance.timeOrigin + performance.now() there. */
  receivedAtEpochMs: number;
  bytes: ArrayBuffer;
  /** Each value's length in `bytes`, in order; -1 for a null value. */
  lengths: Int32Array;
  /** Each record's timestamp, in milliseconds. */
  timestamps: Float64Array;
}

export type ReaderMessage =
  | { type: 'joined' }
  | PackedBatch
  | { type: 'stopped' }
  | { type: 'failed'; message: string };

export interface ReaderSettings {
  brokers: readonly string[];
  topic: string;
  groupPrefix: string;
}

/** Values, timestamps and arrival of one batch; `receivedAt` is on this thread's performance.now() clock. */
export type OnBatch = (values: (Buffer | null)[], timestamps: Float64Array, receivedAt: number) => void;

export interface ThreadedReader {
  disconnect(): Promise<void>;
}

/** Copies the values once into one buffer that can be transferred (not cloned) to another thread. */
export function packBatch(
  messages: readonly { value: Buffer | null; timestamp: string }[],
  receivedAtEpochMs: number,
): PackedBatch {
  const lengths = new Int32Array(messages.length);
  const timestamps = new Float64Array(messages.length);
  let total = 0;
  for (let index = 0; index < messages.length; index++) {
    const { value, timestamp } = messages[index]!;
    lengths[index] = value === null ? -1 : value.length;
    total += value?.length ?? 0;
    timestamps[index] = Number(timestamp);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const { value } of messages) {
    if (value === null) continue;
    bytes.set(value, offset);
    offset += value.length;
  }
  return { type: 'batch', receivedAtEpochMs, bytes: bytes.buffer, lengths, timestamps };
}

/** The values of a packed batch, as views of its buffer. */
export function unpackValues(batch: PackedBatch): (Buffer | null)[] {
  const values: (Buffer | null)[] = new Array(batch.lengths.length);
  let offset = 0;
  for (let index = 0; index < batch.lengths.length; index++) {
    const length = batch.lengths[index]!;
    values[index] = length < 0 ? null : Buffer.from(batch.bytes, offset, length);
    offset += Math.max(0, length);
  }
  return values;
}

/** Resolves once the reader has joined its group, so that nothing published afterwards goes unseen. */
export async function threadedReader(settings: ReaderSettings, onBatch: OnBatch): Promise<ThreadedReader> {
  const worker: Worker = startModuleWorker(new URL('./reader-worker.js', import.meta.url), {
    workerData: settings,
  });
  let stopped: (() => void) | undefined;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    void exited.then(() => reject(new Error(`reader of ${settings.topic} exited before joining its group`)));
    worker.on('message', (message: ReaderMessage) => {
      if (message.type === 'joined') resolve();
      else if (message.type === 'failed')
        reject(new Error(`reader of ${settings.topic}: ${message.message}`));
      else if (message.type === 'stopped') stopped?.();
      else
        onBatch(
          unpackValues(message),
          message.timestamps,
          message.receivedAtEpochMs - performance.timeOrigin,
        );
    });
  });
  return {
    async disconnect() {
      const done = new Promise<void>((resolve) => {
        stopped = resolve;
      });
      worker.postMessage({ type: 'stop' });
      await Promise.race([done, exited]);
      await worker.terminate();
    },
  };
}
