/**
 * `npm run bench:loops`: the service with one consumer loop and with input.loops auto against the bare
 * kafkajs pipe, draining one backlog in rotating rounds (lib/loops-drain.ts). Writes
 * loadtests/results/loops.json and prints its section of BENCHMARKS.md, which `npm run bench:report`
 * includes; `npm run bench` runs the same measurement. `--quick` is a check (one round, a smaller
 * backlog), not figures.
 */
import { ensureBroker, harnessKafka } from './lib/broker.js';
import { loopRounds, measureLoops } from './lib/loops-drain.js';
import { loopsMarkdown, loopsTargetRows } from './lib/loops-report.js';
import { parseBenchOptions } from './lib/options.js';
import { writeResult } from './lib/results.js';
import type { BenchContext } from './lib/scenarios.js';

async function main(): Promise<void> {
  const options = parseBenchOptions();
  const stopBroker = await ensureBroker(options.brokers);
  const context: BenchContext = { options, kafka: harnessKafka(options.brokers) };
  try {
    const rounds = loopRounds(options.quick);
    process.stderr.write(
      `\n== consumer loops: ${rounds} rounds of bare pipe, one loop, loops auto with and without inference workers\n`,
    );
    const result = await measureLoops(context, rounds);
    writeResult('loops', { options, ...result });
    process.stderr.write(`\n${[...loopsTargetRows(result), '', ...loopsMarkdown(result)].join('\n')}\n`);
  } finally {
    stopBroker();
  }
}

await main();
