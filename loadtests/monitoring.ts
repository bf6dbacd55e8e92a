/**
 * `npx tsx loadtests/monitoring.ts` (`npm run bench:monitoring`): what monitoring costs the service. The
 * full service drains the same backlog with monitoring off, with monitoring.drift on, and with
 * monitoring.alerts and monitoring.drift on, in rotating rounds of one run (lib/monitoring-drain.ts), serving the service's
 * default model (occlusion reasons: an extra inference call per alerted batch) unless --model names
 * another. Writes loadtests/results/monitoring.json and prints its section of BENCHMARKS.md, which
 * `npm run bench:report` includes. `--quick` is a check (one round of each, a smaller backlog), not figures.
 */
import { loadConfig } from '../src/config/index.js';
import { listVersions, readManifest, selectVersion } from '../src/models/index.js';
import { alertThresholdOf } from '../src/pipeline/alerts.js';
import { ensureBroker, harnessKafka } from './lib/broker.js';
import { drainRounds, MONITORING_ON, monitoringDrains } from './lib/monitoring-drain.js';
import { monitoringMarkdown } from './lib/monitoring-report.js';
import { type MonitoringResult, summarizeMonitoring } from './lib/monitoring-summary.js';
import { parseBenchOptions } from './lib/options.js';
import { writeResult } from './lib/results.js';
import type { BenchContext } from './lib/scenarios.js';

/** The benchmarks' own default model is the MLP; this one measures the model the service serves unless told. */
const modelChosen = () =>
  process.argv.some((argument) => argument === '--model' || argument.startsWith('--model=')) ||
  process.env.BENCH_MODEL !== undefined;

async function main(): Promise<void> {
  const parsed = parseBenchOptions();
  const serviceDefaults = loadConfig({ env: {}, overrides: { monitoring: MONITORING_ON } });
  const options = { ...parsed, model: modelChosen() ? parsed.model : serviceDefaults.model.name };
  const latest = selectVersion(await listVersions(serviceDefaults.model.repository, options.model), 'latest');
  if (!latest)
    throw new Error(`model ${options.model} has no version in ${serviceDefaults.model.repository}`);
  const manifest = await readManifest(latest.directory);
  const rounds = drainRounds(options.quick);

  const stopBroker = await ensureBroker(options.brokers);
  const context: BenchContext = { options, kafka: harnessKafka(options.brokers) };
  try {
    process.stderr.write(
      `\n== monitoring: the service (${options.model}@${manifest.version}) drains ${options.drainBacklog} events, ${rounds} rounds with monitoring off, drift on, and alerts + drift on\n`,
    );
    const { drains, driftProfile } = await monitoringDrains(context, rounds);
    const { alerts, drift, reasonCodes, driftWindowEvents, driftWindowMs } = serviceDefaults.monitoring;
    const result: MonitoringResult = {
      quick: options.quick,
      model: `${options.model}@${manifest.version}`,
      modelFeatures: manifest.features.length,
      alertThreshold: alertThresholdOf(manifest),
      explanation: manifest.explanation?.method ?? 'none',
      rounds,
      backlog: options.drainBacklog,
      setting: { alerts, drift, reasonCodes, driftWindowEvents, driftWindowMs },
      drains,
      driftProfile,
    };
    writeResult('monitoring', {
      partitions: options.partitions,
      options,
      ...result,
      summary: summarizeMonitoring(result),
    });
    process.stderr.write(`\n${monitoringMarkdown(result)}`);
  } finally {
    stopBroker();
  }
}

await main();
