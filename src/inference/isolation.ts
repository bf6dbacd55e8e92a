/**
 * Finding the records a model fails on. When onnxruntime raises an error on a batch, the batch is halved
 * until the rows it fails on are alone; a failure on every row means the model or the runtime is broken,
 * not the records, and is rethrown.
 */
import { StreamscoreError } from '../errors/index.js';
import type { InferenceTiming } from './batcher.js';
import type { ServingModel } from './engine.js';

export interface IsolatedScores {
  scores: Float32Array;
  /** Rows the model raised an error on, each on its own. */
  failedRows: number[];
}

function isRunFailure(error: unknown): boolean {
  return error instanceof StreamscoreError && error.code === 'INFERENCE_RUN_FAILED';
}

export async function scoreIsolatingFailures(
  model: ServingModel,
  features: Float32Array,
  rows: number,
  timing: InferenceTiming,
): Promise<IsolatedScores> {
  const width = model.features.width;
  const scores = new Float32Array(rows);
  const failedRows: number[] = [];
  const attempt = async (first: number, count: number): Promise<void> => {
    try {
      scores.set(await model.score(features.subarray(first * width, (first + count) * width), count), first);
    } catch (error) {
      if (!isRunFailure(error)) throw error;
      if (count === 1) {
        failedRows.push(first);
        return;
      }
      const half = Math.ceil(count / 2);
      await attempt(first, half);
      await attempt(first + half, count - half);
    }
  };
  try {
    scores.set(await model.score(features, rows, timing));
  } catch (error) {
    if (!isRunFailure(error) || rows === 1) throw error;
    await attempt(0, rows);
    if (failedRows.length === rows) throw error;
  }
  return { scores, failedRows };
}
