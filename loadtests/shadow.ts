/**
 * `npx tsx loadtests/shadow.ts` (`npm run bench:shadow`): what one shadow model costs the champion, on its
 * own, in about 10 minutes. The full service with the champion alone and with the same model, published
 * under another name, as a shadow of every key: drain rates, the highest rate with flat lag and latency
 * at one rate, in alternating rounds, then one profiled run of each (see lib/shadow.ts). Writes
 * loadtests/results/shadow.json and regenerates BENCHMARKS.md. `npm run bench` runs the same scenario
 * after its others; `--quick` is a check (one round, short windows, about 4 minutes), not figures.
 */
import { ensureBroker, harnessKafka } from './lib/broker.js';
import { parseBenchOptions } from './lib/options.js';
import { writeResult } from './lib/results.js';
import type { BenchContext } from './lib/scenarios.js';
import { measureShadowCost, shadowRounds } from './lib/shadow.js';
import { shadowMarkdown } from './lib/shadow-report.js';
import { generateReport } from './report.js';

async function main(): Promise<void> {
  const options = parseBenchOptions();
  const stopBroker = await ensureBroker(options.brokers);
  const context: BenchContext = { options, kafka: harnessKafka(options.brokers) };
  try {
    const result = await measureShadowCost(context, shadowRounds(options));
    writeResult('shadow', { quick: options.quick, partitions: options.partitions, options, ...result });
    process.stderr.write(`\n${shadowMarkdown(result).join('\n')}\n`);
  } finally {
    stopBroker();
  }
  process.stderr.write(`wrote ${generateReport().join(', ')}\n`);
}

await main();
