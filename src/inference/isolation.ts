/**
 * Finding the records a model fails on, and blaming no one else. The micro-batcher merges the rows of many
 * partitions' batches into one onnxruntime call and fails every request in a call that fails, so a failed
 * request says nothing about its own rows. Its rows are therefore scored again in inference calls that hold
 * nothing else (straight on the executor, never merged, never cached), and a failing call is halved until
 * each failing row is alone.
 *
 * A row that fails alone is the record's fault only while the model demonstrably works, which a batch whose
 * every row failed (a lone record included) does not show. So when the rows fail together, the row the
 * session warmed up with is scored once more: if it fails too, the model or the runtime is broken, and the
 * error is thrown as an infrastructure failure (the batch is retried, nothing is dead-lettered). It is
 * checked before halving, so a broken runtime costs one call and not one per row, and again when every row
 * failed, in case the runtime broke while the rows were tried.
 */
import { StreamscoreError } from '../errors/index.js';
import type { FeatureRows } from '../features/index.js';
import type { InferenceTiming } from './batcher.js';
import type { ServingModel } from './pool.js';

export interface IsolatedScores {
  scores: Float32Array;
  /**
   * Rows the model raised an error on, each alone, while it scored its warm-up row. They carry no error on
   * purpose: onnxruntime's message can quote tensor values (a Gather index, say, derived from a card's
   * data), and the reason a record is dead-lettered with must never quote field values.
   */
  failedRows: number[];
}

/** An onnxruntime run that failed: the rows' fault or the model's, never the infrastructure's. */
export function isRunFailure(error: unknown): error is StreamscoreError {
  return error instanceof StreamscoreError && error.code === 'INFERENCE_RUN_FAILED';
}

/** Resolves if the model scores its warm-up row; throws an infrastructure failure if it does not. */
async function requireWorkingModel(model: ServingModel): Promise<void> {
  try {
    await model.probe();
  } catch (error) {
    if (!isRunFailure(error)) throw error;
    throw new StreamscoreError(
      'INFERENCE_RUN_FAILED',
      `${model.id} fails even on the row it warmed up with, so the model or the runtime is broken, not the ` +
        `records: ${error.message}`,
      { cause: error },
    );
  }
}

export async function scoreIsolatingFailures(
  model: ServingModel,
  features: FeatureRows,
  rows: number,
  timing: InferenceTiming,
): Promise<IsolatedScores> {
  try {
    return { scores: await model.score(features, rows, timing), failedRows: [] };
  } catch (error) {
    if (!isRunFailure(error)) throw error;
  }
  const width = model.features.width;
  const scores = new Float32Array(rows);
  const failedRows: number[] = [];
  /** Scores rows [first, first + count) in a call of their own; false if onnxruntime failed on them. */
  const scoredAlone = async (first: number, count: number): Promise<boolean> => {
    try {
      // A copy: the executor takes ownership of (transfers) the buffer it is given.
      const own = features.slice(first * width, (first + count) * width);
      scores.set(await model.scoreAlone(own, count), first);
      return true;
    } catch (error) {
      if (!isRunFailure(error)) throw error;
      return false;
    }
  };
  const bisect = async (first: number, count: number): Promise<void> => {
    if (count === 1) {
      failedRows.push(first);
      return;
    }
    const half = Math.ceil(count / 2);
    if (!(await scoredAlone(first, half))) await bisect(first, half);
    if (!(await scoredAlone(first + half, count - half))) await bisect(first + half, count - half);
  };

  if (await scoredAlone(0, rows)) return { scores, failedRows };
  await requireWorkingModel(model);
  await bisect(0, rows);
  if (failedRows.length === rows && rows > 1) await requireWorkingModel(model);
  return { scores, failedRows };
}
