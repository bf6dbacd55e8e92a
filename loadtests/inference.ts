/**
 * Inference without Kafka: what onnxruntime itself delivers per batch size, what the engine delivers on
 * top of it (worker threads, micro-batching), what the event loop suffers meanwhile, and what a cache hit
 * costs against a miss. Prints a table and writes loadtests/results/inference.json (with a Markdown
 * section for BENCHMARKS.md). Figures, not assertions: the machine is shared and noisy, so compare ratios
 * within one run.
 *
 *   npx tsx loadtests/inference.ts [--quick]
 */
import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import { loadAvroSchema } from '../src/codec/index.js';
import { loadConfig, packagePath } from '../src/config/index.js';
import {
  createExecutor,
  createModelPool,
  createPredictionCache,
  type ModelPool,
  versionId,
} from '../src/inference/index.js';
import { listVersions, readModelArtifact } from '../src/models/index.js';
import { type InferenceBatch, inferenceBatch, subscribe } from '../src/telemetry/index.js';
import { readGolden } from '../test/support/golden.js';

const quick = process.argv.includes('--quick');
const SECONDS_PER_POINT = quick ? 0.3 : 1.5;
const BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];
const MODELS = ['fraud-gbm', 'fraud-mlp', 'fraud-forest'];
const ENGINE_BATCH = 256;
// A partition batch of the service: small when the stream is light, up to thousands under load.
const REQUEST_ROWS = 100;
const HEAVY_REQUEST_ROWS = 1_000;
const CONCURRENT_REQUESTS = 3; // partitions consumed concurrently by default

interface RawPoint {
  batch: number;
  callsPerSecond: number;
  rowsPerSecond: number;
}

interface EnginePoint {
  model: string;
  mode: string;
  rowsPerSecond: number;
  meanBatchRows: number;
  eventLoopP99Ms: number;
  eventLoopMaxMs: number;
}

async function modelDirectory(name: string): Promise<string> {
  return (await listVersions(packagePath('models'), name)).at(-1)!.directory;
}

/** Feature rows of real events, cycled to any length. */
function featureRows(name: string, rows: number): Float32Array {
  const golden = readGolden(`models/${name}/1`);
  const out = new Float32Array(rows * 8);
  for (let row = 0; row < rows; row++) out.set(golden[row % golden.length]!.features, row * 8);
  return out;
}

async function timeFor(
  seconds: number,
  step: () => Promise<number>,
): Promise<{ count: number; rows: number; elapsed: number }> {
  const started = performance.now();
  let count = 0;
  let rows = 0;
  while (performance.now() - started < seconds * 1000) {
    rows += await step();
    count += 1;
  }
  return { count, rows, elapsed: (performance.now() - started) / 1000 };
}

async function rawOrt(name: string): Promise<RawPoint[]> {
  const session = await ort.InferenceSession.create(`${await modelDirectory(name)}/model.onnx`, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const points: RawPoint[] = [];
  for (const batch of BATCH_SIZES) {
    const input = new ort.Tensor('float32', featureRows(name, batch), [batch, 8]);
    await session.run({ features: input });
    const { count, rows, elapsed } = await timeFor(SECONDS_PER_POINT, async () => {
      await session.run({ features: input }, ['probabilities']);
      return batch;
    });
    points.push({ batch, callsPerSecond: count / elapsed, rowsPerSecond: rows / elapsed });
  }
  await session.release();
  return points;
}

async function withEngine<T>(
  name: string,
  workers: number,
  maxBatchSize: number,
  cache: boolean,
  use: (pool: ModelPool, id: string) => Promise<T>,
): Promise<T> {
  const executor = createExecutor({ workers, intraOpThreads: 1 });
  const pool = createModelPool(loadAvroSchema(packagePath('schemas/card-transaction.avsc')), executor, {
    batching: { maxBatchSize, maxDelayMicros: 1_000 },
    cache: cache ? { maxEntries: 1_000_000, ttlMs: 600_000 } : undefined,
  });
  const artifact = await readModelArtifact(await modelDirectory(name));
  await pool.load(artifact);
  const id = versionId(artifact.manifest.name, artifact.manifest.version);
  try {
    return await use(pool, id);
  } finally {
    await pool.close();
    await executor.close();
  }
}

/** Concurrent "partitions" each submitting requests of REQUEST_ROWS rows back to back. */
async function engineThroughput(
  name: string,
  mode: string,
  workers: number,
  maxBatchSize: number,
  requestRows: number,
): Promise<EnginePoint> {
  return withEngine(name, workers, maxBatchSize, false, async (pool, id) => {
    const rows = featureRows(name, requestRows);
    const delay = monitorEventLoopDelay({ resolution: 1 });
    let scored = 0;
    const deadline = performance.now() + SECONDS_PER_POINT * 2 * 1000;
    const partition = async () => {
      while (performance.now() < deadline) {
        const model = pool.acquire(id);
        await model.score(rows, requestRows);
        model.release();
        scored += requestRows;
      }
    };
    await partition(); // warm-up of this configuration, not counted below
    scored = 0;
    let batches = 0;
    let batchedRows = 0;
    const unsubscribe = subscribe<InferenceBatch>(inferenceBatch, ({ rows: batchRows }) => {
      batches += 1;
      batchedRows += batchRows;
    });
    const started = performance.now();
    const until = started + SECONDS_PER_POINT * 2 * 1000;
    delay.enable();
    await Promise.all(
      Array.from({ length: CONCURRENT_REQUESTS }, async () => {
        while (performance.now() < until) {
          const model = pool.acquire(id);
          await model.score(rows, requestRows);
          model.release();
          scored += requestRows;
        }
      }),
    );
    delay.disable();
    unsubscribe();
    const elapsed = (performance.now() - started) / 1000;
    return {
      model: name,
      mode: `${mode}, ${requestRows}-row requests`,
      rowsPerSecond: scored / elapsed,
      meanBatchRows: batchedRows / batches,
      eventLoopP99Ms: delay.percentile(99) / 1e6,
      eventLoopMaxMs: delay.max / 1e6,
    };
  });
}

/** Time per request of REQUEST_ROWS rows when every row is cached, against when none is. */
async function cacheCost(name: string): Promise<{ hitMicrosPerRow: number; missMicrosPerRow: number }> {
  return withEngine(name, 1, ENGINE_BATCH, true, async (pool, id) => {
    const requests = 200;
    const distinct = Array.from({ length: requests }, (_, index) => {
      const rows = featureRows(name, REQUEST_ROWS);
      // Unique rows per request: the amount feature is nudged so no two requests share a row.
      for (let row = 0; row < REQUEST_ROWS; row++) rows[row * 8] = rows[row * 8]! + index * 1e-3;
      return rows;
    });
    const pass = async () => {
      const started = performance.now();
      for (const rows of distinct) {
        const model = pool.acquire(id);
        await model.score(rows, REQUEST_ROWS);
        model.release();
      }
      return ((performance.now() - started) * 1000) / (requests * REQUEST_ROWS);
    };
    const missMicrosPerRow = await pass();
    const hitMicrosPerRow = await pass();
    return { hitMicrosPerRow, missMicrosPerRow };
  });
}

const CHURN_BATCH_ROWS = 500;
const CHURN_WIDTH = 8;

/**
 * What a stream that never repeats pays for the cache: lookup and store of distinct rows, the cache alone at
 * its default size, timed once it is full (every store then replaces an entry), in ns per row.
 */
function cacheChurnNanosPerRow(): { maxEntries: number; nanosPerRow: number } {
  const { cacheMaxEntries: maxEntries, cacheTtlMs: ttlMs } = loadConfig({ env: {} }).model;
  const cache = createPredictionCache({ maxEntries, ttlMs });
  const rows = new Float32Array(CHURN_BATCH_ROWS * CHURN_WIDTH);
  const scores = new Float32Array(CHURN_BATCH_ROWS);
  let next = 0;
  const churn = (batches: number) => {
    for (let batch = 0; batch < batches; batch++) {
      for (let index = 0; index < rows.length; index++) rows[index] = next++;
      cache.store(
        'churn@1',
        rows,
        cache.lookup('churn@1', rows, CHURN_BATCH_ROWS, CHURN_WIDTH, scores),
        CHURN_WIDTH,
        scores,
      );
    }
  };
  const fillBatches = Math.ceil((2 * maxEntries) / CHURN_BATCH_ROWS);
  churn(fillBatches);
  const measuredBatches = quick ? fillBatches : 4 * fillBatches;
  const started = process.hrtime.bigint();
  churn(measuredBatches);
  const nanosPerRow = Number(process.hrtime.bigint() - started) / (measuredBatches * CHURN_BATCH_ROWS);
  return { maxEntries, nanosPerRow };
}

function machine() {
  const commit = (() => {
    try {
      return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    onnxruntime: ort.env.versions.node,
    commit,
  };
}

const fmt = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main() {
  const raw: Record<string, RawPoint[]> = {};
  for (const name of MODELS) {
    raw[name] = await rawOrt(name);
    console.log(
      `raw ORT ${name}: ${raw[name].map((p) => `b${p.batch}=${fmt(p.rowsPerSecond)}`).join(' ')} rows/s`,
    );
  }
  const engine: EnginePoint[] = [];
  for (const name of MODELS) {
    for (const [mode, workers, batch, requestRows] of [
      ['main thread, no batching', 0, 1, REQUEST_ROWS],
      ['main thread, batching', 0, ENGINE_BATCH, REQUEST_ROWS],
      ['1 worker, no batching', 1, 1, REQUEST_ROWS],
      ['1 worker, batching', 1, ENGINE_BATCH, REQUEST_ROWS],
      ['main thread, batching', 0, ENGINE_BATCH, HEAVY_REQUEST_ROWS],
      ['1 worker, batching', 1, ENGINE_BATCH, HEAVY_REQUEST_ROWS],
    ] as const) {
      const point = await engineThroughput(name, mode, workers, batch, requestRows);
      engine.push(point);
      console.log(
        `engine ${name} ${mode}: ${fmt(point.rowsPerSecond)} rows/s, mean batch ${fmt(point.meanBatchRows, 1)}, event loop p99 ${fmt(point.eventLoopP99Ms, 2)} ms`,
      );
    }
  }
  const cache: Record<string, { hitMicrosPerRow: number; missMicrosPerRow: number }> = {};
  for (const name of MODELS) {
    cache[name] = await cacheCost(name);
    console.log(
      `cache ${name}: hit ${fmt(cache[name].hitMicrosPerRow, 2)} µs/row, miss ${fmt(cache[name].missMicrosPerRow, 2)} µs/row`,
    );
  }

  const churn = cacheChurnNanosPerRow();
  console.log(`cache churn at ${fmt(churn.maxEntries)} entries: ${fmt(churn.nanosPerRow)} ns/row`);

  const command = `npx tsx loadtests/inference.ts${quick ? ' --quick' : ''}`;
  const host = machine();
  const rawAt = (name: string, batch: number) => raw[name]!.find((point) => point.batch === batch)!;
  const lines = [
    `Command: \`${command}\` (${SECONDS_PER_POINT} s per raw point, ${SECONDS_PER_POINT * 2} s per engine point), commit ${host.commit}, ` +
      `${host.cpu}, ${host.cores} cores, Node ${host.node}, onnxruntime-node ${host.onnxruntime}. One intra-op thread everywhere.`,
    '',
    '**onnxruntime alone** (main thread, one `run()` after another), rows/s by batch size:',
    '',
    `| model | ${BATCH_SIZES.join(' | ')} |`,
    `| --- | ${BATCH_SIZES.map(() => '---:').join(' | ')} |`,
    ...MODELS.map(
      (name) => `| ${name} | ${raw[name]!.map((point) => fmt(point.rowsPerSecond)).join(' | ')} |`,
    ),
    '',
    `Calls/s at batch 1: ${MODELS.map((name) => `${name} ${fmt(rawAt(name, 1).callsPerSecond)}`).join(', ')}.`,
    '',
    `**The engine** (${CONCURRENT_REQUESTS} concurrent requests, like partition batches, of ${REQUEST_ROWS} rows (a light stream) or ${HEAVY_REQUEST_ROWS} (under load); batching = maxBatchSize ${ENGINE_BATCH}, ` +
      "maxDelayMicros 1000; cache off). \"vs ORT\" is the engine's rows/s over raw ORT's batched rows/s at batch 256 (the target is 0.8); the event loop is the main thread's.",
    '',
    '| model | mode | rows/s | mean batch | vs ORT at batch 256 | event loop p99 | event loop max |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...engine.map((point) => {
      const ratio = point.rowsPerSecond / rawAt(point.model, ENGINE_BATCH).rowsPerSecond;
      return `| ${point.model} | ${point.mode} | ${fmt(point.rowsPerSecond)} | ${fmt(point.meanBatchRows, 1)} | ${fmt(ratio, 2)} | ${fmt(point.eventLoopP99Ms, 2)} ms | ${fmt(point.eventLoopMaxMs, 2)} ms |`;
    }),
    '',
    `**Prediction cache** (requests of ${REQUEST_ROWS} distinct rows, 1 worker): cost per row when every row hits against when every row misses.`,
    '',
    '| model | hit µs/row | miss µs/row | miss / hit |',
    '| --- | ---: | ---: | ---: |',
    ...MODELS.map(
      (name) =>
        `| ${name} | ${fmt(cache[name]!.hitMicrosPerRow, 2)} | ${fmt(cache[name]!.missMicrosPerRow, 2)} | ${fmt(cache[name]!.missMicrosPerRow / cache[name]!.hitMicrosPerRow, 1)} |`,
    ),
    '',
    `A stream that never repeats pays the cache ${fmt(churn.nanosPerRow)} ns per row (lookup and store of distinct rows, the cache alone at its default ${fmt(churn.maxEntries)} entries, full).`,
  ];
  const result = {
    title: 'Inference engine',
    command,
    machine: host,
    generatedAt: new Date().toISOString(),
    raw,
    engine,
    cache,
    cacheChurn: churn,
    markdown: lines.join('\n'),
  };
  writeFileSync(packagePath('loadtests/results/inference.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\n${result.markdown}\n\nwrote loadtests/results/inference.json`);
}

await main();
