import { describe, expect, it } from 'vitest';
import type { FeatureRows } from '../../src/features/index.js';
import { createMicroBatcher, type Schedule } from '../../src/inference/index.js';

const WIDTH = 2;
const M1 = { model: 'm', version: '1' };

/** A model whose calls the test completes by hand; score of a row = its first feature × 10. */
function manualModel() {
  const calls: {
    rows: number;
    features: FeatureRows;
    scores: Float32Array;
    finish(): void;
    fail(error: Error): void;
  }[] = [];
  const run = (features: FeatureRows, rows: number) =>
    new Promise<Float32Array>((resolve, reject) => {
      const scores = new Float32Array(rows);
      for (let row = 0; row < rows; row++) scores[row] = features[row * WIDTH]! * 10;
      calls.push({ rows, features, scores, finish: () => resolve(scores), fail: reject });
    });
  return { calls, run };
}

/** A scheduler that only fires when the test says so. */
function manualTimers() {
  const pending: { fn: () => void; micros: number; cancelled: boolean }[] = [];
  const schedule: Schedule = (fn, micros) => {
    const timer = { fn, micros, cancelled: false };
    pending.push(timer);
    return () => {
      timer.cancelled = true;
    };
  };
  const fire = () => {
    for (const timer of pending.splice(0)) if (!timer.cancelled) timer.fn();
  };
  return { schedule, fire, armed: () => pending.filter((timer) => !timer.cancelled) };
}

function rows(...firsts: number[]): Float32Array {
  return Float32Array.from(firsts.flatMap((first) => [first, -first]));
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('micro-batcher', () => {
  it('never puts more than maxBatchSize rows in one call, splitting large requests across calls', async () => {
    const model = manualModel();
    const timers = manualTimers();
    const options = { maxBatchSize: 4, maxDelayMicros: 500, maxInFlight: 8 };
    const batcher = createMicroBatcher(M1, WIDTH, model.run, options, timers.schedule);
    const big = batcher.submit(rows(...Array.from({ length: 10 }, (_, i) => i)), 10);
    // Two full batches leave at once; the last 2 rows wait for more rows or for their delay.
    expect(model.calls.map((call) => call.rows)).toEqual([4, 4]);
    const small = batcher.submit(rows(100, 101, 102), 3);
    expect(model.calls.map((call) => call.rows)).toEqual([4, 4, 4]);
    timers.fire();
    expect(model.calls.map((call) => call.rows)).toEqual([4, 4, 4, 1]);
    for (const call of model.calls) call.finish();
    expect([...(await big)]).toEqual(Array.from({ length: 10 }, (_, i) => i * 10));
    expect([...(await small)]).toEqual([1000, 1010, 1020]);
  });

  it('sends a lone row on an idle engine at once, without waiting for its delay', async () => {
    const model = manualModel();
    const timers = manualTimers();
    const options = { maxBatchSize: 64, maxDelayMicros: 500, maxInFlight: 2 };
    const batcher = createMicroBatcher(M1, WIDTH, model.run, options, timers.schedule);
    const lone = batcher.submit(rows(7), 1);
    expect(model.calls.map((call) => call.rows)).toEqual([1]);
    expect(timers.armed()).toHaveLength(0);
    model.calls[0]!.finish();
    expect([...(await lone)]).toEqual([70]);
  });

  it('holds rows behind a running inference until the batch fills or their delay expires', async () => {
    const model = manualModel();
    const timers = manualTimers();
    const options = { maxBatchSize: 4, maxDelayMicros: 500, maxInFlight: 2 };
    const batcher = createMicroBatcher(M1, WIDTH, model.run, options, timers.schedule);
    void batcher.submit(rows(1), 1);
    const waiting = batcher.submit(rows(2, 3), 2);
    // A slot is free, but an inference runs: the two rows wait to be joined by more.
    expect(model.calls.map((call) => call.rows)).toEqual([1]);
    expect(timers.armed()).toHaveLength(1);
    expect(timers.armed()[0]!.micros).toBeLessThanOrEqual(500);
    timers.fire();
    expect(model.calls.map((call) => call.rows)).toEqual([1, 2]);
    model.calls[1]!.finish();
    expect([...(await waiting)]).toEqual([20, 30]);
  });

  it('sends a lone row whose delay expired during a running inference as soon as that one finishes', async () => {
    const model = manualModel();
    const timers = manualTimers();
    const batcher = createMicroBatcher(
      M1,
      WIDTH,
      model.run,
      { maxBatchSize: 2, maxDelayMicros: 500, maxInFlight: 1 },
      timers.schedule,
    );
    void batcher.submit(rows(1, 2), 2);
    expect(model.calls).toHaveLength(1);
    const lone = batcher.submit(rows(3), 1);
    timers.fire();
    // The only slot is busy: the row waits for exactly that one inference.
    expect(model.calls).toHaveLength(1);
    model.calls[0]!.finish();
    await flush();
    expect(model.calls.map((call) => call.rows)).toEqual([2, 1]);
    model.calls[1]!.finish();
    expect([...(await lone)]).toEqual([30]);
  });

  it('returns each request its own scores, in its own order, when requests share batches', async () => {
    const model = manualModel();
    const timers = manualTimers();
    const batcher = createMicroBatcher(
      M1,
      WIDTH,
      model.run,
      { maxBatchSize: 5, maxDelayMicros: 500, maxInFlight: 4 },
      timers.schedule,
    );
    // Three partitions' batches arrive while the engine is idle: the first leaves alone, the next two
    // share a full batch, and the last row of the third follows when its delay expires.
    const partitionA = batcher.submit(rows(1, 2, 3), 3);
    const partitionB = batcher.submit(rows(11, 12, 13, 14), 4);
    const partitionC = batcher.submit(rows(21, 22), 2);
    timers.fire();
    expect(model.calls.map((call) => call.rows)).toEqual([3, 5, 1]);
    // Completing out of order must not matter.
    model.calls[2]!.finish();
    model.calls[1]!.finish();
    model.calls[0]!.finish();
    expect([...(await partitionA)]).toEqual([10, 20, 30]);
    expect([...(await partitionB)]).toEqual([110, 120, 130, 140]);
    expect([...(await partitionC)]).toEqual([210, 220]);
    await batcher.drain();
    expect(batcher.pendingRows).toBe(0);
  });

  it("hands a request whose rows went into one call that call's scores, without copying them", async () => {
    const model = manualModel();
    const timers = manualTimers();
    const batcher = createMicroBatcher(
      M1,
      WIDTH,
      model.run,
      { maxBatchSize: 8, maxDelayMicros: 500, maxInFlight: 2 },
      timers.schedule,
    );
    void batcher.submit(rows(1), 1);
    const alone = model.calls[0]!;
    const first = batcher.submit(rows(2, 3), 2);
    const second = batcher.submit(rows(4, 5, 6), 3);
    timers.fire();
    const shared = model.calls[1]!;
    alone.finish();
    shared.finish();
    const firstScores = await first;
    const secondScores = await second;
    expect([...firstScores]).toEqual([20, 30]);
    expect([...secondScores]).toEqual([40, 50, 60]);
    expect(firstScores.buffer).toBe(shared.scores.buffer);
    expect(secondScores.buffer).toBe(shared.scores.buffer);
  });

  it("writes a request's scores into the caller's rows when it names them, across calls", async () => {
    const model = manualModel();
    const timers = manualTimers();
    const batcher = createMicroBatcher(
      M1,
      WIDTH,
      model.run,
      { maxBatchSize: 2, maxDelayMicros: 500, maxInFlight: 4 },
      timers.schedule,
    );
    const into = Float32Array.from([-1, -1, -1, -1, -1, -1]);
    const scored = batcher.submit(rows(1, 2, 3), 3, undefined, { scores: into, rows: [5, 0, 3] });
    timers.fire();
    expect(model.calls.map((call) => call.rows)).toEqual([2, 1]);
    model.calls[1]!.finish();
    model.calls[0]!.finish();
    expect(await scored).toBe(into);
    expect([...into]).toEqual([20, -1, -1, 30, -1, 10]);
  });

  it('fails only the requests that had rows in a failed batch', async () => {
    const model = manualModel();
    const timers = manualTimers();
    const batcher = createMicroBatcher(
      M1,
      WIDTH,
      model.run,
      { maxBatchSize: 2, maxDelayMicros: 500, maxInFlight: 4 },
      timers.schedule,
    );
    const first = batcher.submit(rows(1, 2), 2);
    const second = batcher.submit(rows(3, 4), 2);
    model.calls[0]!.fail(new Error('boom'));
    model.calls[1]!.finish();
    await expect(first).rejects.toThrow('boom');
    expect([...(await second)]).toEqual([30, 40]);
  });

  it("hands float64 rows to inference as float64, each request's bits unchanged", async () => {
    const model = manualModel();
    const timers = manualTimers();
    const batcher = createMicroBatcher(
      M1,
      WIDTH,
      model.run,
      { maxBatchSize: 4, maxDelayMicros: 500, maxInFlight: 1 },
      timers.schedule,
    );
    // 0.1 + 2^-40 has no float32 of its own: a float32 batch buffer would round it to 0.1.
    const precise = 0.1 + 2 ** -40;
    void batcher.submit(Float64Array.from([1, -1]), 1);
    const first = batcher.submit(Float64Array.from([precise, 1, 2, 2]), 2);
    const second = batcher.submit(Float64Array.from([3, precise]), 1);
    model.calls[0]!.finish();
    await flush();
    const merged = model.calls[1]!.features;
    expect(merged).toBeInstanceOf(Float64Array);
    expect([...merged]).toEqual([precise, 1, 2, 2, 3, precise]);
    model.calls[1]!.finish();
    expect([...(await first)]).toEqual([Math.fround(precise * 10), 20]);
    expect([...(await second)]).toEqual([30]);
  });
});
