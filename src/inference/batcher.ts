/**
 * Micro-batching for one model version. Requests (the accepted rows of a Kafka batch, from any partition)
 * queue up. A batch leaves at once when nothing is running (an idle engine never waits), otherwise when it
 * is full (maxBatchSize rows) or the oldest queued row has waited maxDelayMicros, and only while fewer
 * than maxInFlight batches run. So under load batches grow while inference is busy, instead of queueing
 * small calls behind each other, and a lone row waits at most maxDelayMicros plus one running inference.
 * Each request gets its own scores back, in its own row order: a view of the call's scores when its rows
 * went into one call, so scores are copied only where a request's rows are spread over several calls or
 * the caller asks for them in rows of its own array.
 */
import { StreamscoreError } from '../errors/index.js';
import { allocateFeatureRows, elementTypeOf, type FeatureRows } from '../features/index.js';
import { type InferenceBatch, inferenceBatch, type ModelVersion } from '../telemetry/index.js';

export interface BatchingOptions {
  maxBatchSize: number;
  maxDelayMicros: number;
  maxInFlight: number;
}

/** Runs `fn` after `micros`; returns a cancel function. Injected so tests can order events without clocks. */
export type Schedule = (fn: () => void, micros: number) => () => void;

const timerSchedule: Schedule = (fn, micros) => {
  const timer = setTimeout(fn, micros / 1000);
  return () => clearTimeout(timer);
};

/** Rows of the caller's own array that a request's scores are written to, instead of a view or a copy. */
export interface ScoreDestination {
  scores: Float32Array;
  /** The row of `scores` for each row of the request, in order. */
  rows: ArrayLike<number>;
}

interface Request {
  features: FeatureRows;
  rows: number;
  /** Rows of this request not yet put into a batch. */
  nextRow: number;
  /** Rows not yet scored. */
  outstanding: number;
  /** Where the scores are gathered when they come from several calls; allocated when the first returns. */
  scores: Float32Array | undefined;
  destination: ScoreDestination | undefined;
  queuedAt: number;
  timing: InferenceTiming | undefined;
  failed: boolean;
  resolve(scores: Float32Array): void;
  reject(error: Error): void;
}

interface Slice {
  request: Request;
  requestRow: number;
  batchRow: number;
  rows: number;
}

/** Filled in by the batcher: when the request's first rows went into an inference call. */
export interface InferenceTiming {
  startedAt?: number;
}

export interface MicroBatcher {
  /**
   * Resolves with one score per row. Without a destination the array may be a view of a larger one: the
   * caller reads it and does not keep writing to it. With one, resolves with `destination.scores`.
   */
  submit(
    features: FeatureRows,
    rows: number,
    timing?: InferenceTiming,
    destination?: ScoreDestination,
  ): Promise<Float32Array>;
  /** Rows waiting for a batch plus rows in running batches. */
  readonly pendingRows: number;
  /** Rows waiting for a batch. */
  readonly queuedRows: number;
  /** Rows in inference calls under way. */
  readonly runningRows: number;
  /** Resolves once nothing is queued or running. */
  drain(): Promise<void>;
}

export function createMicroBatcher(
  model: ModelVersion,
  width: number,
  run: (features: FeatureRows, rows: number) => Promise<Float32Array>,
  options: BatchingOptions,
  schedule: Schedule = timerSchedule,
): MicroBatcher {
  const queue: Request[] = [];
  let queuedRows = 0;
  let runningRows = 0;
  let inFlight = 0;
  let cancelTimer: (() => void) | undefined;
  let drained: (() => void)[] = [];

  const settleDrain = () => {
    if (queuedRows === 0 && inFlight === 0) {
      for (const resolve of drained) resolve();
      drained = [];
    }
  };

  const takeBatch = (): { features: FeatureRows; rows: number; slices: Slice[]; oldest: number } => {
    const rows = Math.min(queuedRows, options.maxBatchSize);
    // Every request of one model version has its element type, so the first one's is the batch's.
    const features = allocateFeatureRows(elementTypeOf(queue[0]!.features), rows * width);
    const slices: Slice[] = [];
    const oldest = queue[0]!.queuedAt;
    let filled = 0;
    while (filled < rows) {
      const request = queue[0]!;
      const take = Math.min(rows - filled, request.rows - request.nextRow);
      features.set(
        request.features.subarray(request.nextRow * width, (request.nextRow + take) * width),
        filled * width,
      );
      slices.push({ request, requestRow: request.nextRow, batchRow: filled, rows: take });
      request.nextRow += take;
      filled += take;
      if (request.nextRow === request.rows) queue.shift();
    }
    queuedRows -= rows;
    return { features, rows, slices, oldest };
  };

  const complete = (slices: Slice[], scores: Float32Array) => {
    for (const { request, requestRow, batchRow, rows } of slices) {
      if (request.failed) continue;
      request.outstanding -= rows;
      const { destination } = request;
      if (destination) {
        const into = destination.scores;
        const intoRows = destination.rows;
        for (let row = 0; row < rows; row++) into[intoRows[requestRow + row]!] = scores[batchRow + row]!;
        if (request.outstanding === 0) request.resolve(into);
      } else if (rows === request.rows) {
        request.resolve(rows === scores.length ? scores : scores.subarray(batchRow, batchRow + rows));
      } else {
        request.scores ??= new Float32Array(request.rows);
        request.scores.set(scores.subarray(batchRow, batchRow + rows), requestRow);
        if (request.outstanding === 0) request.resolve(request.scores);
      }
    }
  };

  const fail = (slices: Slice[], error: unknown) => {
    const failure =
      error instanceof Error
        ? error
        : new StreamscoreError('INFERENCE_FAILED', `inference failed on ${model.model}@${model.version}`);
    for (const { request } of slices) {
      if (request.failed) continue;
      request.failed = true;
      request.reject(failure);
    }
  };

  const dispatch = () => {
    const batch = takeBatch();
    inFlight += 1;
    runningRows += batch.rows;
    const startedAt = performance.now();
    for (const { request } of batch.slices) if (request.timing) request.timing.startedAt ??= startedAt;
    run(batch.features, batch.rows)
      .then(
        (scores) => complete(batch.slices, scores),
        (error: unknown) => fail(batch.slices, error),
      )
      .finally(() => {
        if (inferenceBatch.hasSubscribers) {
          inferenceBatch.publish({
            ...model,
            rows: batch.rows,
            waitMs: startedAt - batch.oldest,
            runMs: performance.now() - startedAt,
          } satisfies InferenceBatch);
        }
        inFlight -= 1;
        runningRows -= batch.rows;
        pump();
        settleDrain();
      });
  };

  // Real time only sets how long the timer waits: the order of events alone decides what is sent.
  let timerFired = false;
  const pump = () => {
    while (
      queuedRows > 0 &&
      inFlight < options.maxInFlight &&
      (inFlight === 0 || queuedRows >= options.maxBatchSize || timerFired)
    ) {
      timerFired = false;
      dispatch();
    }
    armTimer();
  };

  const armTimer = () => {
    if (queuedRows === 0 || timerFired) {
      cancelTimer?.();
      cancelTimer = undefined;
      return;
    }
    if (cancelTimer) return;
    const waitedMicros = (performance.now() - queue[0]!.queuedAt) * 1000;
    cancelTimer = schedule(
      () => {
        cancelTimer = undefined;
        timerFired = true;
        pump();
      },
      Math.max(0, options.maxDelayMicros - waitedMicros),
    );
  };

  return {
    submit(features, rows, timing, destination) {
      if (rows === 0) return Promise.resolve(destination?.scores ?? new Float32Array(0));
      return new Promise<Float32Array>((resolve, reject) => {
        queue.push({
          features,
          rows,
          nextRow: 0,
          outstanding: rows,
          scores: undefined,
          destination,
          queuedAt: performance.now(),
          timing,
          failed: false,
          resolve,
          reject,
        });
        queuedRows += rows;
        pump();
      });
    },
    get pendingRows() {
      return queuedRows + runningRows;
    },
    get queuedRows() {
      return queuedRows;
    },
    get runningRows() {
      return runningRows;
    },
    drain() {
      if (queuedRows === 0 && inFlight === 0) return Promise.resolve();
      return new Promise((resolve) => drained.push(resolve));
    },
  };
}
