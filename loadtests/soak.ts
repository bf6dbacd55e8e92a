/** `npm run bench:soak`: the ten-minute soak (`--soak-seconds`, `--rate`); writes results/soak.json. */
import { ensureBroker, harnessKafka } from './lib/broker.js';
import { parseBenchOptions } from './lib/options.js';
import { writeResult } from './lib/results.js';
import { runSoak } from './lib/soak.js';
import { generateReport } from './report.js';

const options = parseBenchOptions();
const stopBroker = await ensureBroker(options.brokers);
try {
  const result = await runSoak(harnessKafka(options.brokers), options);
  writeResult('soak', {
    quick: options.quick,
    model: options.model,
    partitions: options.partitions,
    ...result,
  });
} finally {
  stopBroker();
}
process.stderr.write(`wrote ${generateReport().join(', ')}\n`);
