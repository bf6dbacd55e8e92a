/** Messages between the main thread and an inference worker. Feature and score buffers are transferred, never copied. */
import type { ModelManifest } from '../models/index.js';
import type { SessionOptions } from './session.js';

export type WorkerRequest =
  | {
      type: 'load';
      id: number;
      key: string;
      manifest: ModelManifest;
      bytes: Uint8Array;
      options: SessionOptions;
    }
  | { type: 'score'; id: number; key: string; features: Float32Array; rows: number }
  | { type: 'release'; id: number; key: string };

export type WorkerResponse =
  | { id: number; ok: true; scores?: Float32Array }
  | { id: number; ok: false; code: string; message: string };
