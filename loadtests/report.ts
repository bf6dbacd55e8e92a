/**
 * `npm run bench:report`: BENCHMARKS.md at the repository root and results/latency-vs-throughput.svg,
 * generated from every loadtests/results/*.json. A results file may carry a ready Markdown section in a
 * top-level `markdown` string (with an optional `title`); such sections are included verbatim after
 * ours, so other benchmarks (the inference benchmark) report in the same document.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packagePath } from '../src/config/index.js';
import type { BrokerLayer } from './layers/broker-perf.js';
import type { CodecLayer } from './layers/codec.js';
import type { OnnxruntimeLayer } from './layers/onnxruntime.js';
import { type ChartSeries, latencyChartSvg } from './lib/chart.js';
import {
  integer,
  latencyCells,
  micros,
  ms,
  percent,
  rate,
  ratio,
  sustainedRate,
  verdict,
} from './lib/format.js';
import type { LoopsResult } from './lib/loops-drain.js';
import { loopsMarkdown, loopsTargetRows } from './lib/loops-report.js';
import { type LowLatencyResult, lowLatencyMarkdown, lowLatencyTargetRows } from './lib/low-latency-report.js';
import { monitoringMarkdown, monitoringTargetRows } from './lib/monitoring-report.js';
import type { MonitoringResult } from './lib/monitoring-summary.js';
import { registryMarkdown, registryTargetRow } from './lib/registry-report.js';
import type { RegistryResult } from './lib/registry-summary.js';
import { RESULTS_DIRECTORY, type RunEnvironment } from './lib/results.js';
import { scaleMarkdown, scaleTargetRow } from './lib/scale-report.js';
import type { ScaleResult } from './lib/scale-summary.js';
import { type DrainRun, harnessBound, type MaxRateSearch, type OpenLoopRun } from './lib/scenarios.js';
import type { ShadowResult } from './lib/shadow.js';
import { shadowMarkdown, shadowTargetRows } from './lib/shadow-report.js';
import type { SoakResult } from './lib/soak.js';
import { TARGET_LABELS, type TargetKind } from './lib/targets.js';

interface ResultFile {
  file: string;
  scenario?: string;
  environment?: RunEnvironment;
  quick?: boolean;
  title?: string;
  markdown?: string;
}
interface LayersFile extends ResultFile {
  codec: CodecLayer;
  onnxruntime: OnnxruntimeLayer;
  broker: BrokerLayer;
}
interface ThroughputFile extends ResultFile {
  drains: DrainRun[];
  searches: MaxRateSearch[];
}
type LatencyRun = OpenLoopRun & { fraction: number };
interface LatencyFile extends ResultFile {
  serviceMaxRate: number;
  runs: LatencyRun[];
}
interface CacheFile extends ResultFile {
  repeats: LatencyRun;
  drains: DrainRun[];
}
type SoakFile = ResultFile & SoakResult;
type ShadowFile = ResultFile & ShadowResult;
type RegistryFile = ResultFile & RegistryResult;
type ScaleFile = ResultFile & ScaleResult;
type MonitoringFile = ResultFile & MonitoringResult;
type LoopsFile = ResultFile & LoopsResult;
type LowLatencyFile = ResultFile & LowLatencyResult;

const CHART_FILE = 'latency-vs-throughput.svg';
const OWN_SCENARIOS = new Set([
  'layers',
  'throughput',
  'latency',
  'cache',
  'soak',
  'shadow',
  'registry',
  'scale',
  'monitoring',
  'loops',
  'low-latency',
]);

export { verdict } from './lib/format.js';
/** Also where the verdict tests find them. */
export { harnessBound } from './lib/scenarios.js';

function readResults(): ResultFile[] {
  if (!existsSync(RESULTS_DIRECTORY)) return [];
  return readdirSync(RESULTS_DIRECTORY)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => ({
      file: name,
      ...(JSON.parse(readFileSync(join(RESULTS_DIRECTORY, name), 'utf8')) as object),
    }));
}

function byScenario<T extends ResultFile>(results: ResultFile[], scenario: string): T | undefined {
  return results.find((result) => result.scenario === scenario) as T | undefined;
}

function environmentSection(results: ResultFile[]): string[] {
  const own = results.filter((result) => result.environment && OWN_SCENARIOS.has(result.scenario ?? ''));
  const first = own[0]?.environment;
  if (!first) return ['No results yet: run `npm run bench` (or `npm run bench -- --quick`).', ''];
  const { machine, versions } = first;
  const lines = [
    '## Machine and versions',
    '',
    `- CPU: ${machine.cpuModel}, ${machine.cores} cores; ${machine.memoryGiB} GiB memory; ${machine.platform}`,
    `- ${Object.entries(versions)
      .map(([name, version]) => `${name} ${version}`)
      .join(', ')}`,
    '- The broker, the load generator, the latency consumer and the system under test share this machine;' +
      ' compare figures within one run, not across machines.',
    '',
    '| results file | recorded | commit | profile | command |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const result of own) {
    const environment = result.environment!;
    const commit = `${environment.gitCommit.slice(0, 10)}${environment.gitDirty ? ' + local changes' : ''}`;
    lines.push(
      `| \`loadtests/results/${result.file}\` | ${environment.recordedAt} | ${commit} | ${result.quick ? '**quick**' : 'full'} | \`${environment.command}\` |`,
    );
  }
  if (own.some((result) => result.quick)) {
    lines.push(
      '',
      '> Some results come from a `--quick` run: short windows, coarse search. Indicative only.',
    );
  }
  return [...lines, ''];
}

function targetsSection(
  throughput: ThroughputFile | undefined,
  latency: LatencyFile | undefined,
  soak: SoakFile | undefined,
  shadow: ShadowFile | undefined,
  registry: RegistryFile | undefined,
  scale: ScaleFile | undefined,
  monitoring: MonitoringFile | undefined,
  loops: LoopsFile | undefined,
  lowLatency: LowLatencyFile | undefined,
): string[] {
  const search = (kind: TargetKind) => throughput?.searches.find((entry) => entry.target === kind);
  const drain = (kind: TargetKind) =>
    throughput?.drains.find((entry) => entry.target === kind && entry.stream === 'unique');
  const lines = ['## Targets', '', '| target | measured | goal | verdict |', '| --- | --- | --- | --- |'];
  const service = search('service');
  const bare = search('bare-pipe');
  const naive = search('naive-service');
  if (service && bare && naive) {
    const vsPipe = service.maxRate / bare.maxRate;
    const drainVsPipe = (drain('service')?.rate ?? 0) / (drain('bare-pipe')?.rate ?? 0);
    lines.push(
      `| service throughput / bare kafkajs pipe | ${ratio(vsPipe)} sustained (${sustainedRate(service)} vs ${sustainedRate(bare)}); ${ratio(drainVsPipe)} draining a backlog | ≥ 0.8× | ${verdict(harnessBound(bare) || harnessBound(service) ? drainVsPipe >= 0.8 : vsPipe >= 0.8)} |`,
    );
    const vsNaive = service.maxRate / naive.maxRate;
    const drainVsNaive = (drain('service')?.rate ?? 0) / (drain('naive-service')?.rate ?? 0);
    lines.push(
      `| service throughput / naive service | ${ratio(vsNaive)} sustained (${sustainedRate(service)} vs ${sustainedRate(naive)}); ${ratio(drainVsNaive)} draining a backlog | ≥ 5× | ${verdict(vsNaive >= 5)} |`,
    );
  }
  if (loops) lines.push(...loopsTargetRows(loops));
  if (lowLatency) lines.push(...lowLatencyTargetRows(lowLatency));
  const atHalf = (kind: TargetKind) =>
    latency?.runs.find((run) => run.fraction === 0.5 && run.target === kind && run.stream === 'unique');
  const serviceHalf = atHalf('service');
  const bareHalf = atHalf('bare-pipe');
  if (serviceHalf && bareHalf) {
    const p99Ratio = serviceHalf.run.latencyMs.p99 / bareHalf.run.latencyMs.p99;
    lines.push(
      `| p99 at 50% of max, service / bare pipe at the same rate | ${ratio(p99Ratio)} (${ms(serviceHalf.run.latencyMs.p99)} ms vs ${ms(bareHalf.run.latencyMs.p99)} ms at ${rate(serviceHalf.run.offeredRate)}) | ≤ 2× | ${verdict(p99Ratio <= 2)} |`,
    );
  }
  if (shadow) lines.push(...shadowTargetRows(shadow));
  if (registry) lines.push(registryTargetRow(registry));
  if (scale) lines.push(scaleTargetRow(scale));
  if (monitoring) lines.push(...monitoringTargetRows(monitoring));
  if (soak) {
    lines.push(
      `| resident memory over the soak | within ±${percent(soak.memory.maxDeviation)} of ${integer(soak.memory.meanRssMiB)} MiB over ${integer(soak.soakSeconds)} s${soak.quick ? ' (a --quick soak, not the 10-minute one)' : ''}; trend ${soak.memory.rssSlopeMiBPerMinute.toFixed(2)} MiB/min | ±10% | ${verdict(soak.memory.maxDeviation <= 0.1)} |`,
    );
  } else {
    lines.push('| resident memory over the soak | run `npm run bench:soak` | ±10% | not measured |');
  }
  if (service && bare && (harnessBound(bare) || harnessBound(service))) {
    lines.push(
      '',
      '≥: a lower bound. Either every rate probed held, or at the next rate probed the load generator itself' +
        ' fell behind its schedule (it shares two cores with the broker and the target); the verdict on the' +
        ' bare-pipe ratio then uses the drain rates.',
    );
  }
  return [
    ...lines,
    '',
    'These are reported, never asserted: timings on a shared 2-core machine are noisy.',
    '',
  ];
}

function layersSection(layers: LayersFile | undefined, throughput: ThroughputFile | undefined): string[] {
  const lines = [
    '## The layers, side by side',
    '',
    'Throughput of each layer on its own, from the bottom up, measured in the same run. "Sustained" is the' +
      ' highest open-loop rate whose lag stayed flat; "drain" is the rate draining a backlog with no load' +
      ' generator competing for the CPU. CPU per record counts every thread of the target process.',
    '',
    '| layer | sustained | drain | CPU per record | how |',
    '| --- | --- | --- | --- | --- |',
  ];
  if (layers) {
    const { broker, codec } = layers;
    lines.push(
      `| broker: kafka-producer-perf-test | | ${rate(broker.producer.recordsPerSecond)} | | ${integer(broker.records)} records of ${broker.recordBytes} B (the mean event size), acks=all, ${broker.partitions} partitions |`,
      `| broker: kafka-consumer-perf-test | | ${rate(broker.consumer.recordsPerSecond)} (fetch only: ${rate(broker.consumer.fetchRecordsPerSecond)}) | | the same records read back; the first figure includes joining the group |`,
      `| Avro decode + encode alone | | ${rate(codec.decodeAndEncode.perSecond)} | ${micros(codec.decodeAndEncode.microsPerUnit)} | one thread: decode an event, build and encode its prediction (decode ${micros(codec.decode.microsPerUnit)}, encode ${micros(codec.encodePrediction.microsPerUnit)}; feature extraction ${micros(codec.features.microsPerUnit)} more) |`,
    );
    const ort = layers.onnxruntime;
    const atMax = ort.byBatchSize.find((entry) => entry.batchSize === ort.serviceMaxBatchSize);
    const single = ort.byBatchSize.find((entry) => entry.batchSize === 1);
    if (atMax && single) {
      lines.push(
        `| onnxruntime alone, batch ${atMax.batchSize} | | ${rate(atMax.perSecond)} | ${micros(atMax.microsPerUnit)} | ${ort.model}, run() on one thread, one intra-op thread (batch 1: ${rate(single.perSecond)}, ${micros(single.microsPerUnit)} per row) |`,
      );
    }
  }
  for (const kind of ['bare-pipe', 'service', 'naive-service'] as const) {
    const search = throughput?.searches.find((entry) => entry.target === kind);
    const drain = throughput?.drains.find((entry) => entry.target === kind && entry.stream === 'unique');
    if (!search || !drain) continue;
    const how = {
      'bare-pipe': "the service's consumer loop and producer republishing each batch unchanged",
      service: 'streamscore, in its own process, default settings',
      'naive-service':
        'eachMessage; decode, one run() per message on the main thread, one awaited send per prediction; no batching, no cache',
    }[kind];
    lines.push(
      `| ${TARGET_LABELS[kind]} | ${sustainedRate(search)} | ${rate(drain.rate)}${drain.completed ? '' : drain.stalled ? ' (stalled)' : ' (time limit)'} | ${micros(drain.stats.cpuMicrosPerOutput)} | ${how} |`,
    );
  }
  return [...lines, ''];
}

function costSection(layers: LayersFile | undefined, throughput: ThroughputFile | undefined): string[] {
  const drain = (kind: TargetKind) =>
    throughput?.drains.find((entry) => entry.target === kind && entry.stream === 'unique');
  const service = drain('service');
  const bare = drain('bare-pipe');
  if (!layers || !service || !bare) return [];
  const ort = layers.onnxruntime.byBatchSize;
  const batchRows = service.stats.meanInferenceBatchRows;
  // The measured batch size nearest to the service's mean batch, on a log scale.
  const nearest = ort.reduce((best, entry) =>
    Math.abs(Math.log(entry.batchSize / batchRows)) < Math.abs(Math.log(best.batchSize / batchRows))
      ? entry
      : best,
  );
  const kafkaCost = bare.stats.cpuMicrosPerOutput;
  const avroCost = layers.codec.decodeAndEncode.microsPerUnit + layers.codec.features.microsPerUnit;
  const inferenceEstimate = service.stats.cpuMicrosPerOutput - kafkaCost - avroCost;
  return [
    '## Where the time goes (CPU per record, draining a backlog)',
    '',
    '| part | CPU per record | source |',
    '| --- | --- | --- |',
    `| Kafka in and out (kafkajs, both directions) | ${micros(kafkaCost)} | bare pipe process CPU / records |`,
    `| Avro decode + features + encode | ${micros(avroCost)} | Avro layer alone |`,
    `| inference and its plumbing, by subtraction | ${micros(inferenceEstimate)} | service − the two rows above |`,
    `| onnxruntime run() alone at batch ${nearest.batchSize} | ${micros(nearest.microsPerUnit)} | onnxruntime layer, the measured size nearest the service's mean batch |`,
    `| **full service** | **${micros(service.stats.cpuMicrosPerOutput)}** | service process CPU / predictions |`,
    '',
    `- The service's micro-batcher averaged **${batchRows.toFixed(1)} rows per inference call** while draining (max ${layers.onnxruntime.serviceMaxBatchSize}); its main thread was busy ${percent(service.stats.eventLoopUtilization)} of the time and the process used ${service.stats.coresUsed.toFixed(2)} cores.`,
    `- Per-row inference cost in the service (by subtraction) / onnxruntime alone at that batch size: **${ratio(inferenceEstimate / nearest.microsPerUnit)}**.`,
    `- The bare pipe used ${bare.stats.coresUsed.toFixed(2)} cores for ${rate(bare.rate)}.`,
    '',
  ];
}

function latencySection(latency: LatencyFile | undefined): string[] {
  if (!latency) return [];
  const lines = [
    '## Latency at fractions of the maximum sustainable rate',
    '',
    `Open loop: events are scheduled at a fixed rate and latency is the time from an event's scheduled send to` +
      ` its output arriving at a separate consumer, so a stall delays every event scheduled during it.` +
      ` Service maximum: ${rate(latency.serviceMaxRate)}; the bare pipe runs at the same absolute rates.` +
      ' Milliseconds.',
    '',
    `![latency vs throughput](loadtests/results/${CHART_FILE})`,
    '',
    '| load | rate | target | p50 | p99 | p99.9 | max | never arrived | lag growth | event-loop delay p99 | rows per inference call |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const entry of latency.runs) {
    const { run, stats } = entry;
    lines.push(
      `| ${Math.round(entry.fraction * 100)}% | ${rate(run.offeredRate)} | ${TARGET_LABELS[entry.target]} | ${latencyCells(run.latencyMs)} | ${integer(run.unreceived)} | ${run.lagGrowthSeconds.toFixed(2)} s | ${ms(stats.eventLoopDelayMs.p99)} | ${entry.target === 'service' ? stats.meanInferenceBatchRows.toFixed(1) : ''} |`,
    );
  }
  return [...lines, ''];
}

function cacheSection(cache: CacheFile | undefined, latency: LatencyFile | undefined): string[] {
  if (!cache) return [];
  const { run, stats } = cache.repeats;
  const lookups = stats.cacheHits + stats.cacheMisses;
  const uniqueAtSameRate = latency?.runs.find(
    (entry) => entry.target === 'service' && entry.fraction === cache.repeats.fraction,
  );
  const drain = (stream: string) => cache.drains.find((entry) => entry.stream === stream);
  const lines = [
    '## Cache-friendly stream',
    '',
    '80% of events repeat the features of one of 500 earlier events (as retries and repeated small purchases' +
      ' do); the prediction cache keys on the exact feature row.',
    '',
    '| stream | rate | p50 | p99 | p99.9 | max | cache hits | CPU per prediction |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    `| repeats | ${rate(run.offeredRate)} | ${latencyCells(run.latencyMs)} | ${lookups > 0 ? percent(stats.cacheHits / lookups) : 'n/a'} | ${micros(stats.cpuMicrosPerOutput)} |`,
  ];
  if (uniqueAtSameRate) {
    const unique = uniqueAtSameRate.stats;
    const uniqueLookups = unique.cacheHits + unique.cacheMisses;
    lines.push(
      `| unique | ${rate(uniqueAtSameRate.run.offeredRate)} | ${latencyCells(uniqueAtSameRate.run.latencyMs)} | ${uniqueLookups > 0 ? percent(unique.cacheHits / uniqueLookups) : 'n/a'} | ${micros(unique.cpuMicrosPerOutput)} |`,
    );
  }
  const repeatsDrain = drain('repeats');
  const uniqueDrain = drain('unique');
  if (repeatsDrain && uniqueDrain) {
    lines.push(
      '',
      `Draining a backlog: ${rate(repeatsDrain.rate)} with repeats against ${rate(uniqueDrain.rate)} unique (${ratio(repeatsDrain.rate / uniqueDrain.rate)}).`,
    );
  }
  return [...lines, ''];
}

function searchSection(throughput: ThroughputFile | undefined): string[] {
  if (!throughput) return [];
  const lines = [
    '## Maximum sustainable throughput: the search',
    '',
    "Bisection between a floor and a ceiling set from each target's drain rate (in the search column). A step holds when the lag (events due minus" +
      ' outputs received) grew by less than 0.25 s of traffic over the window, ended under 1 s of traffic, and the' +
      ' generator kept within 5% of the schedule.',
    '',
    '| target | search | offered | held | lag growth | lag at end | p99 | CPU per record |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const search of throughput.searches) {
    const bounds = `${integer(search.lowerBound)}–${integer(search.upperBound)}/s`;
    for (const step of search.steps) {
      lines.push(
        `| ${TARGET_LABELS[search.target]} | ${bounds} | ${rate(step.rate)} | ${step.sustained ? 'yes' : step.generatorLimited ? 'no (generator behind)' : 'no'} | ${step.lagGrowthSeconds.toFixed(2)} s | ${integer(step.lagAtEnd)} | ${ms(step.p99Ms)} ms | ${micros(step.cpuMicrosPerOutput)} |`,
      );
    }
  }
  return [...lines, ''];
}

function soakSection(soak: SoakFile | undefined): string[] {
  if (!soak) return [];
  const lines = [
    '## Soak',
    '',
    `${integer(soak.soakSeconds)} s at ${rate(soak.rate)} (${soak.rateSource}) after ${soak.warmupSeconds} s of warm-up;` +
      ` latency over the whole window p50 ${ms(soak.run.latencyMs.p50)} ms, p99 ${ms(soak.run.latencyMs.p99)} ms,` +
      ` max ${ms(soak.run.latencyMs.max)} ms; ${integer(soak.run.unreceived)} never arrived.` +
      ` Resident memory ${integer(soak.memory.minRssMiB)}–${integer(soak.memory.maxRssMiB)} MiB.`,
    '',
    '| time | RSS | heap used | event-loop delay p99 | main thread busy | latency p99 in the interval |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  // About a dozen rows whatever the soak's length.
  const every = Math.max(1, Math.round(soak.samples.length / 12));
  soak.samples.forEach((sample, index) => {
    if (index % every !== 0 && index !== soak.samples.length - 1) return;
    const interval = soak.run.intervals.find((entry) => entry.seconds >= sample.atSeconds);
    lines.push(
      `| ${integer(sample.atSeconds)} s | ${integer(sample.rssMiB)} MiB | ${integer(sample.heapUsedMiB)} MiB | ${ms(sample.eventLoopDelayP99Ms)} ms | ${percent(sample.eventLoopUtilization)} | ${interval && interval.latencyMs.count > 0 ? `${ms(interval.latencyMs.p99)} ms` : ''} |`,
    );
  });
  return [...lines, ''];
}

const METHOD = [
  '## How it is measured',
  '',
  '- Every system under test runs in its own child process (`node --import tsx loadtests/targets/<target>.ts`),' +
    ' on fresh topics with fresh consumer groups, so the generator and the latency consumer do not share its' +
    ' event loop. The broker is the local single-node KRaft broker on the same machine.',
  "- The generator publishes every `--tick-ms` (2 ms) whatever is due by the schedule, without waiting for earlier sends. Each event's `event_id` is its sequence number, so the consumer finds its scheduled send time by index (no map); the scheduled time also travels in the `x-scheduled-at-us` header (epoch microseconds). Predictions do not carry input headers, so the consumer uses the event_id.",
  '- Latency is recorded in an HdrHistogram (hdr-histogram-js, 3 significant digits) after the warm-up; an output that never arrived within 10 s after the last send is recorded as late as the wait, never dropped.',
  '- The naive service produces one prediction per awaited send (per message), with kafkajs auto-commit.',
  '- Ratios compare figures from one run. Nothing here is asserted by a test.',
  '',
];

export function generateReport(): string[] {
  const results = readResults();
  const layers = byScenario<LayersFile>(results, 'layers');
  const throughput = byScenario<ThroughputFile>(results, 'throughput');
  const latency = byScenario<LatencyFile>(results, 'latency');
  const cache = byScenario<CacheFile>(results, 'cache');
  const soak = byScenario<SoakFile>(results, 'soak');
  const shadow = byScenario<ShadowFile>(results, 'shadow');
  const registry = byScenario<RegistryFile>(results, 'registry');
  const scale = byScenario<ScaleFile>(results, 'scale');
  const monitoring = byScenario<MonitoringFile>(results, 'monitoring');
  const loops = byScenario<LoopsFile>(results, 'loops');
  const lowLatency = byScenario<LowLatencyFile>(results, 'low-latency');
  const written: string[] = [];

  if (latency) {
    const series: ChartSeries[] = [];
    const colors: Record<string, string> = { service: '#1f77b4', 'bare-pipe': '#ff7f0e' };
    for (const kind of ['service', 'bare-pipe'] as const) {
      const runs = latency.runs.filter((entry) => entry.target === kind && entry.stream === 'unique');
      for (const [percentile, dashed] of [
        ['p50', true],
        ['p99', false],
      ] as const) {
        series.push({
          name: `${TARGET_LABELS[kind]} ${percentile}`,
          color: colors[kind]!,
          dashed,
          points: runs.map((entry) => ({
            rate: entry.run.offeredRate,
            latencyMs: entry.run.latencyMs[percentile],
          })),
        });
      }
    }
    const chartPath = join(RESULTS_DIRECTORY, CHART_FILE);
    writeFileSync(chartPath, latencyChartSvg('Latency from scheduled send vs offered rate', series));
    written.push(chartPath);
  }

  const others = results.filter(
    (result) => typeof result.markdown === 'string' && !OWN_SCENARIOS.has(result.scenario ?? ''),
  );
  const sections = [
    '# Benchmarks',
    '',
    '<!-- Generated by `npm run bench:report` from loadtests/results/*.json; edit loadtests/report.ts, not this file. -->',
    '',
    'How late streamscore answers at a given load, how much load it holds, and how close that is to the layers' +
      ' beneath it. Regenerate with `npm run bench` (about 28 minutes; `-- --quick` for about 9) and' +
      ' `npm run bench:soak`; see [loadtests/README.md](loadtests/README.md).',
    '',
    ...environmentSection(results),
    ...targetsSection(throughput, latency, soak, shadow, registry, scale, monitoring, loops, lowLatency),
    ...layersSection(layers, throughput),
    ...costSection(layers, throughput),
    ...(loops ? loopsMarkdown(loops) : []),
    ...latencySection(latency),
    ...(lowLatency ? [lowLatencyMarkdown(lowLatency).trimEnd(), ''] : []),
    ...cacheSection(cache, latency),
    ...searchSection(throughput),
    ...soakSection(soak),
    ...(shadow ? shadowMarkdown(shadow) : []),
    ...(registry ? registryMarkdown(registry) : []),
    ...(scale ? scaleMarkdown(scale) : []),
    ...(monitoring ? [monitoringMarkdown(monitoring)] : []),
    ...METHOD,
  ];
  if (others.length > 0) {
    sections.push(
      '## Other benchmarks',
      '',
      ...others.map(
        (result) =>
          `- ${result.title ?? result.scenario ?? result.file} (\`loadtests/results/${result.file}\`)`,
      ),
      '',
    );
    for (const result of others) sections.push(result.markdown!.trimEnd(), '');
  }
  const reportPath = packagePath('BENCHMARKS.md');
  writeFileSync(reportPath, `${sections.join('\n').trimEnd()}\n`);
  written.push(reportPath);
  return written;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stderr.write(`wrote ${generateReport().join(', ')}\n`);
}
