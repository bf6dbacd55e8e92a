/**
 * `npx tsx loadtests/registry.ts` (`npm run bench:registry`): what the Confluent wire format and the schema
 * registry cost against plain Avro. Per record on one thread (lib/registry-decode.ts): decode as plain
 * Avro, as the wire format with the reader's own schema, and through a resolver; then the full service
 * draining the same backlog in both formats, in alternating rounds (lib/registry-drain.ts), against a real
 * registry: the one on REGISTRY_PORT (default 8081), else the local one started and stopped here. Writes
 * loadtests/results/registry.json and regenerates BENCHMARKS.md. `--quick` is a check (fewer, shorter
 * rounds, one drain of each), not figures.
 */
import { ensureBroker, harnessKafka } from './lib/broker.js';
import { parseBenchOptions } from './lib/options.js';
import { decodeRounds, measureWireDecode } from './lib/registry-decode.js';
import { alternatingFormatDrains, drainRounds } from './lib/registry-drain.js';
import { registryMarkdown } from './lib/registry-report.js';
import { deleteSubjects, ensureRegistry } from './lib/registry-server.js';
import { type RegistryResult, summarizeRegistry } from './lib/registry-summary.js';
import { writeResult } from './lib/results.js';
import type { BenchContext } from './lib/scenarios.js';
import { generateReport } from './report.js';

const heading = (text: string) => process.stderr.write(`\n== ${text}\n`);

async function main(): Promise<void> {
  const options = parseBenchOptions();
  const { rounds: decodeRoundCount, records } = decodeRounds(options);
  heading(`registry: decode per record, ${decodeRoundCount} rounds of ${records} records per path`);
  const decode = await measureWireDecode(options.model, decodeRoundCount, records);

  const rounds = drainRounds(options.quick);
  const stopBroker = await ensureBroker(options.brokers);
  const registry = await ensureRegistry();
  const context: BenchContext = { options, kafka: harnessKafka(options.brokers) };
  const subjects: string[] = [];
  try {
    heading(`registry: the service drains ${options.drainBacklog} events, ${rounds} rounds of each format`);
    const drained = await alternatingFormatDrains(context, rounds, registry.url, subjects);
    const result: RegistryResult = {
      model: options.model,
      registry: { url: registry.url, startedHere: registry.startedHere },
      decode,
      rounds,
      backlogs: drained.backlogs,
      drains: drained.drains,
    };
    writeResult('registry', {
      quick: options.quick,
      partitions: options.partitions,
      options,
      ...result,
      summary: summarizeRegistry(result),
    });
    process.stderr.write(`\n${registryMarkdown(result).join('\n')}\n`);
  } finally {
    await deleteSubjects(registry.url, subjects);
    registry.stop();
    stopBroker();
  }
  process.stderr.write(`wrote ${generateReport().join(', ')}\n`);
}

await main();
