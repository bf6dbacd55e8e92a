/** Messages between the main thread and an inference worker. Feature and score buffers are transferred, never copied. */
import type { FeatureRows } from '../features/index.js';
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
  | { type: 'score'; id: number; key: string; features: FeatureRows; rows: number }
  | { type: 'release'; id: number; key: string };

export type WorkerResponse =
  | { id: number; ok: true; scores?: Float32Array }
  /** `message` is the error's whole message: for onnxruntime's errors, it includes onnxruntime's own. */
  | { id: number; ok: false; code: string; message: string };
