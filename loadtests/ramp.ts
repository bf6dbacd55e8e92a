/**
 * `npm run bench:ramp`: the full service under an open-loop load whose rate climbs linearly from
 * `--from-rate` to `--to-rate` over `--ramp-seconds`, summarised every two seconds, to find the knee where
 * it stops keeping up. Writes loadtests/results/ramp.json and regenerates BENCHMARKS.md.
 */
import { ensureBroker, harnessKafka } from './lib/broker.js';
import { parseBenchOptions } from './lib/options.js';
import { findKnee, type RampPlan, rampMarkdown } from './lib/ramp.js';
import { writeResult } from './lib/results.js';
import { type BenchContext, openLoopAgainst } from './lib/scenarios.js';
import { generateReport } from './report.js';

/**
 * Long enough to average out the service's batches and the sampler's 250 ms steps; the rate climbs by
 * (toRate − fromRate) · 2 / rampSeconds per interval, which is how finely the knee is placed.
 */
const INTERVAL_SECONDS = 2;
/** Past the knee a backlog piles up that no grace period would drain; this only collects the stragglers. */
const GRACE_SECONDS = 5;

async function main(): Promise<void> {
  const options = parseBenchOptions();
  const plan: RampPlan = {
    fromRate: options.fromRate,
    toRate: options.toRate,
    warmupSeconds: options.warmupSeconds,
    rampSeconds: options.rampSeconds,
  };
  const stopBroker = await ensureBroker(options.brokers);
  const context: BenchContext = { options, kafka: harnessKafka(options.brokers) };
  try {
    const ramp = await openLoopAgainst(
      context,
      'service',
      { fromRate: plan.fromRate, toRate: plan.toRate },
      'unique',
      {
        warmupSeconds: plan.warmupSeconds,
        measureSeconds: plan.rampSeconds,
        graceSeconds: GRACE_SECONDS,
        intervalSeconds: INTERVAL_SECONDS,
      },
      'ramp',
    );
    const knee = findKnee(ramp.run.intervals, plan);
    const markdown = rampMarkdown({
      plan,
      quick: options.quick,
      intervals: ramp.run.intervals,
      knee,
      latencyMs: ramp.run.latencyMs,
      unreceived: ramp.run.unreceived,
    });
    writeResult('ramp', {
      title: 'Ramp: where the service falls behind',
      quick: options.quick,
      model: options.model,
      partitions: options.partitions,
      ...plan,
      intervalSeconds: INTERVAL_SECONDS,
      knee: knee ?? null,
      ...ramp,
      markdown,
    });
    process.stderr.write(`\n${markdown}\n`);
  } finally {
    stopBroker();
  }
  process.stderr.write(`wrote ${generateReport().join(', ')}\n`);
}

await main();
