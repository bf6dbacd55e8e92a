/**
 * `npm run bench`: every layer and every scenario in one run on one machine, so the ratios between them
 * mean something. Writes loadtests/results/{layers,loops,throughput,latency,cache,shadow}.json and regenerates
 * BENCHMARKS.md. `-- --quick` is the short version for CI and a local check.
 */

import { measureBrokerLayer } from './layers/broker-perf.js';
import { measureCodecLayer } from './layers/codec.js';
import { measureOnnxruntimeLayer } from './layers/onnxruntime.js';
import { createTopics, deleteTopics, ensureBroker, harnessKafka, uniqueName } from './lib/broker.js';
import { createEventSource, eventCodec } from './lib/events.js';
import { loopRounds, measureLoops } from './lib/loops-drain.js';
import { parseBenchOptions } from './lib/options.js';
import { writeResult } from './lib/results.js';
import {
  type BenchContext,
  type DrainRun,
  drainCapacity,
  type MaxRateSearch,
  type OpenLoopRun,
  openLoopAgainst,
  publishBacklog,
  searchMaxRate,
} from './lib/scenarios.js';
import { measureShadowCost, shadowRounds } from './lib/shadow.js';
import { TARGET_LABELS, type TargetKind } from './lib/targets.js';
import { generateReport } from './report.js';

const TARGETS: readonly TargetKind[] = ['bare-pipe', 'service', 'naive-service'];
export const LOAD_FRACTIONS = [0.25, 0.5, 0.75, 0.9] as const;
/** The cache-friendly stream runs where the service is busiest but still keeps up. */
const CACHE_LOAD_FRACTION = 0.9;

function heading(text: string): void {
  process.stderr.write(`\n== ${text}\n`);
}

function meanEncodedBytes(): number {
  const source = createEventSource('unique');
  let bytes = 0;
  for (let sequence = 0; sequence < 1_000; sequence++)
    bytes += eventCodec.encode(source.next(sequence)).length;
  return Math.round(bytes / 1_000);
}

async function drainAll(context: BenchContext): Promise<DrainRun[]> {
  const { kafka, options } = context;
  const runs: DrainRun[] = [];
  for (const stream of ['unique', 'repeats'] as const) {
    const topic = uniqueName(`backlog-${stream}`);
    await createTopics(kafka, [topic, `${topic}.DLT`], options.partitions);
    try {
      await publishBacklog(kafka, topic, createEventSource(stream), options.drainBacklog);
      // The bare pipe and the naive service read no features, so the repeats stream changes nothing for them.
      for (const kind of stream === 'unique' ? TARGETS : (['service'] as const)) {
        const run = await drainCapacity(context, kind, topic, options.drainBacklog, stream);
        process.stderr.write(`  ${TARGET_LABELS[kind]} (${stream}) drained at ${run.rate.toFixed(0)}/s\n`);
        runs.push(run);
      }
    } finally {
      await deleteTopics(kafka, [topic, `${topic}.DLT`]);
    }
  }
  return runs;
}

async function main(): Promise<void> {
  const options = parseBenchOptions();
  const stopBroker = await ensureBroker(options.brokers);
  const kafka = harnessKafka(options.brokers);
  const context: BenchContext = { options, kafka };
  const profile = { quick: options.quick, model: options.model, partitions: options.partitions };
  try {
    heading('layers: Avro, onnxruntime, the broker alone');
    const codec = await measureCodecLayer(options.model, options.microSeconds);
    const onnxruntime = await measureOnnxruntimeLayer(options.model, options.microSeconds);
    const broker = await measureBrokerLayer(
      kafka,
      options.brokers,
      options.brokerPerfRecords,
      meanEncodedBytes(),
      options.partitions,
    );
    writeResult('layers', { ...profile, codec, onnxruntime, broker });

    heading('capacity: each target drains a backlog');
    const drains = await drainAll(context);
    const drainRate = (kind: TargetKind) =>
      drains.find((run) => run.target === kind && run.stream === 'unique')?.rate ?? 0;

    heading('consumer loops: bare pipe, one loop and input.loops auto draining one backlog');
    const loops = await measureLoops(context, loopRounds(options.quick));
    writeResult('loops', { options, ...loops });

    heading('maximum sustainable throughput: highest offered rate with flat lag');
    const searches: MaxRateSearch[] = [];
    for (const kind of TARGETS) searches.push(await searchMaxRate(context, kind, drainRate(kind)));
    writeResult('throughput', { ...profile, options, drains, searches });
    const serviceMax = searches.find((search) => search.target === 'service')!.maxRate;

    heading(`latency at fractions of the service's maximum (${serviceMax}/s), service and bare pipe`);
    const timing = {
      warmupSeconds: options.warmupSeconds,
      measureSeconds: options.measureSeconds,
      graceSeconds: 10,
    };
    const latencyRuns: (OpenLoopRun & { fraction: number })[] = [];
    for (const fraction of LOAD_FRACTIONS) {
      const rate = Math.round(serviceMax * fraction);
      for (const kind of ['service', 'bare-pipe'] as const) {
        const label = `${TARGET_LABELS[kind]} ${Math.round(fraction * 100)}%`;
        latencyRuns.push({
          fraction,
          ...(await openLoopAgainst(context, kind, rate, 'unique', timing, label)),
        });
      }
    }
    writeResult('latency', { ...profile, options, serviceMaxRate: serviceMax, runs: latencyRuns });

    heading('cache-friendly stream: 80% of events repeat the features of 500');
    const cacheRate = Math.round(serviceMax * CACHE_LOAD_FRACTION);
    const cached = await openLoopAgainst(context, 'service', cacheRate, 'repeats', timing, 'service repeats');
    writeResult('cache', {
      ...profile,
      options,
      fraction: CACHE_LOAD_FRACTION,
      repeats: { ...cached, fraction: CACHE_LOAD_FRACTION },
      drains: drains.filter((run) => run.target === 'service'),
    });

    // Its own alternating rounds of champion alone and champion + shadow: the service figures above come
    // from other minutes of this machine, so they are not the baseline.
    const shadow = await measureShadowCost(context, shadowRounds(options));
    writeResult('shadow', { ...profile, options, ...shadow });
  } finally {
    stopBroker();
  }
  const written = generateReport();
  process.stderr.write(`\nwrote ${written.join(', ')}\n`);
}

await main();
