/**
 * Resident memory across hot swaps: onnxruntime has known session-release leaks in Node, so this swaps
 * model versions 50 times in a row, scoring between swaps, and compares resident memory at the end with
 * where it started. Writes loadtests/results/hot-swap-memory.json (with a Markdown section).
 *
 *   node --expose-gc --import tsx loadtests/hot-swap-memory.ts [--swaps 50]
 */
import { writeFileSync } from 'node:fs';
import { loadAvroSchema } from '../src/codec/index.js';
import { packagePath } from '../src/config/index.js';
import { createExecutor, createModelPool, type ModelPool, versionId } from '../src/inference/index.js';
import { type ModelArtifact, readModelArtifact } from '../src/models/index.js';
import { readGolden } from '../test/support/golden.js';

const swapsFlag = process.argv.indexOf('--swaps');
const SWAPS = swapsFlag > 0 ? Number(process.argv[swapsFlag + 1]) : 50;
const SCORED_ROWS_PER_SWAP = 2_000;
const MiB = 2 ** 20;

const collect = () => (globalThis as { gc?: () => void }).gc?.();

function residentMiB(): number {
  collect();
  return process.memoryUsage.rss() / MiB;
}

async function scoreSome(pool: ModelPool, id: string, rows: Float32Array): Promise<void> {
  for (let done = 0; done < SCORED_ROWS_PER_SWAP; done += 200) {
    const model = pool.acquire(id);
    await model.score(rows, 200);
    model.release();
  }
}

const servingId = (version: number) => versionId('fraud-gbm', String(version));

/**
 * A hot swap as the deployment controller makes it: the new version loaded and verified first, the one it
 * replaces kept loaded as the standby, and the standby before that unloaded (let go once drained).
 */
async function swapTo(pool: ModelPool, artifact: ModelArtifact): Promise<void> {
  await pool.load(artifact);
  const version = Number(artifact.manifest.version);
  if (version > 2) pool.unload(servingId(version - 2));
}

/** The same model file published under a new version label, as a retrain with the same bytes would be. */
function relabel(artifact: ModelArtifact, version: number): ModelArtifact {
  return { ...artifact, manifest: { ...artifact.manifest, version: String(version) } };
}

async function main() {
  const executor = createExecutor({ workers: 1, intraOpThreads: 1 });
  const pool = createModelPool(loadAvroSchema(packagePath('schemas/card-transaction.avsc')), executor, {
    batching: { maxBatchSize: 256, maxDelayMicros: 1_000 },
    cache: undefined,
  });
  const sources = [
    await readModelArtifact(packagePath('models/fraud-gbm/1')),
    await readModelArtifact(packagePath('test/fixtures/models/fraud-gbm-v2/2')),
  ];
  const golden = readGolden();
  const rows = new Float32Array(200 * 8);
  for (let row = 0; row < 200; row++) rows.set(golden[row % golden.length]!.features, row * 8);

  // Warm-up: the first sessions allocate onnxruntime's process-wide state; measure from after it.
  for (let version = 1; version <= 3; version++) {
    await swapTo(pool, relabel(sources[version % 2]!, version));
    await scoreSome(pool, servingId(version), rows);
  }
  const samples: { swap: number; residentMiB: number }[] = [{ swap: 0, residentMiB: residentMiB() }];
  for (let swap = 1; swap <= SWAPS; swap++) {
    await swapTo(pool, relabel(sources[swap % 2]!, swap + 3));
    await scoreSome(pool, servingId(swap + 3), rows);
    if (swap % 10 === 0 || swap === SWAPS) {
      // Let retired versions drain and release before sampling.
      await new Promise((resolve) => setTimeout(resolve, 50));
      samples.push({ swap, residentMiB: residentMiB() });
      console.log(`after ${swap} swaps: ${samples.at(-1)!.residentMiB.toFixed(1)} MiB resident`);
    }
  }
  await pool.close();
  await executor.close();

  const start = samples[0]!.residentMiB;
  const end = samples.at(-1)!.residentMiB;
  const command = `node --expose-gc --import tsx loadtests/hot-swap-memory.ts --swaps ${SWAPS}`;
  const markdown = [
    `Command: \`${command}\`. fraud-gbm in 1 worker thread, ${SCORED_ROWS_PER_SWAP} rows scored after each swap; ` +
      'the serving version and one standby stay loaded, older ones are released once drained.',
    '',
    '| swaps | resident MiB |',
    '| ---: | ---: |',
    ...samples.map((sample) => `| ${sample.swap} | ${sample.residentMiB.toFixed(1)} |`),
    '',
    `End / start: **${(end / start).toFixed(3)}** (target: within 10%, i.e. ≤ 1.10).`,
  ].join('\n');
  const result = {
    title: `Memory over ${SWAPS} hot swaps`,
    command,
    generatedAt: new Date().toISOString(),
    samples,
    ratio: end / start,
    markdown,
  };
  writeFileSync(
    packagePath('loadtests/results/hot-swap-memory.json'),
    `${JSON.stringify(result, null, 2)}\n`,
  );
  console.log(`\n${markdown}`);
}

await main();
