/**
 * The consumer-loops benchmark's part of BENCHMARKS.md: its rows in the targets table and its own
 * section, also printed by loadtests/loops.ts at the end of a run. The figures are lib/loops-drain.ts's.
 */
import { drainRates, integer, micros, ratio, verdict } from './format.js';
import { layerMicros } from './loops-ceiling.js';
import {
  LOOP_VARIANTS,
  type LoopsResult,
  type LoopVariant,
  summarizeLoops,
  VARIANT_LABELS,
} from './loops-drain.js';
import { medianOrNull } from './rounds.js';

/** Whether the drains counted predictions from end offsets, with no reading consumer on the machine. */
const countedByEndOffsets = (result: LoopsResult) =>
  result.drains.length > 0 && result.drains.every(({ drain }) => drain.countedBy === 'end-offsets');

/** Measured once, ad hoc: drainCapacity on 400,000 events with each way of counting, alternating. */
const READER_CORES_NOTE =
  '0.35–0.36 cores against 0.09–0.12 for polls every 10 ms, two drains each of the service with loops auto';

const optionalRatio = (value: number | null) => (value === null ? 'n/a' : ratio(value));
const optionalMicros = (value: number | null) => (value === null ? 'n/a' : micros(value));

/** The ceiling paragraph of the section: how far the pipe's rate is from what any service could do here. */
function ceilingText(result: LoopsResult, summary: ReturnType<typeof summarizeLoops>): string[] {
  const { floor } = result;
  const { ceiling } = summary;
  if (!floor || !ceiling) return [];
  const pipeCpu = summary.variants['bare-pipe'].medianCpuMicrosPerRecord;
  const autoCores = summary.variants['loops-auto'].medianCoresUsed;
  return [
    `What any service could drain here, timed after the drains of this run: besides what the bare pipe spends on a record (${optionalMicros(pipeCpu)}, kafkajs consuming and publishing it), a record costs at least its decoding (${micros(floor.decodeMicros)}), feature extraction (${micros(floor.featuresMicros)}), inference in batches of ${floor.inferenceBatchSize} (${micros(floor.inferenceMicros)} a row) and the prediction's encoding (${micros(floor.encodeMicros)}), each on one thread with no Kafka: ${micros(layerMicros(floor))} of work no implementation of the job avoids, ${micros(ceiling.microsPerRecord)} in all. At that cost and nothing more, a service given all ${result.cpus} CPUs of the machine would drain ${ratio(ceiling.allCpusVsPipe)} the pipe's rate, and on the ${autoCores?.toFixed(2) ?? 'n/a'} cores the loops got beside the broker, ${ratio(ceiling.coresUsedVsPipe)}; loops auto reached ${optionalRatio(summary.autoVsPipe)}.`,
    '',
  ];
}

export function loopsTargetRows(result: LoopsResult): string[] {
  const summary = summarizeLoops(result);
  const auto = summary.variants['loops-auto'];
  const one = summary.variants['one-loop'];
  const ceiling = summary.ceiling
    ? `; the least any service spends a record here allows ${ratio(summary.ceiling.coresUsedVsPipe)} on the cores the loops got, ${ratio(summary.ceiling.allCpusVsPipe)} on all ${result.cpus}`
    : '';
  return [
    `| service drain, input.loops auto (${result.autoLoops}) / bare kafkajs pipe | ${optionalRatio(summary.autoVsPipe)} (one loop: ${optionalRatio(summary.oneLoopVsPipe)}; against the pipe on kafkajs as published: ${optionalRatio(summary.autoVsPublishedPipe)}${ceiling}) | ≥ 1.0× | ${verdict(summary.goals.drainVsPipe)} |`,
    `| cores used draining, input.loops auto | ${auto.medianCoresUsed?.toFixed(2) ?? 'n/a'} (one loop: ${one.medianCoresUsed?.toFixed(2) ?? 'n/a'}) | ≥ 1.6 | ${verdict(summary.goals.cores)} |`,
    `| CPU per record, input.loops auto / one loop | ${optionalRatio(summary.autoCpuVsOneLoop)} (${optionalMicros(auto.medianCpuMicrosPerRecord)} vs ${optionalMicros(one.medianCpuMicrosPerRecord)}) | ≤ 1.0× | ${verdict(summary.goals.cpuPerRecord)} |`,
  ];
}

export function loopsMarkdown(result: LoopsResult): string[] {
  const summary = summarizeLoops(result);
  const row = (variant: LoopVariant) => {
    const figures = summary.variants[variant];
    const drains = result.drains.filter((entry) => entry.variant === variant).map((entry) => entry.drain);
    const perCpuSecond =
      figures.medianCpuMicrosPerRecord === null ? 'n/a' : integer(1e6 / figures.medianCpuMicrosPerRecord);
    const rss = medianOrNull(drains.map((drain) => drain.stats.rssMiB));
    const machine = medianOrNull(drains.flatMap((drain) => drain.machineCoresBusy ?? []));
    const harness = medianOrNull(drains.flatMap((drain) => drain.harnessCores ?? []));
    return `| ${VARIANT_LABELS[variant]} | ${drainRates(figures.medianDrainRate, drains)} | ${optionalMicros(figures.medianCpuMicrosPerRecord)} | ${figures.medianCoresUsed?.toFixed(2) ?? 'n/a'} | ${machine?.toFixed(2) ?? 'n/a'} | ${harness?.toFixed(2) ?? 'n/a'} | ${perCpuSecond} | ${rss === null ? 'n/a' : `${integer(rss)} MiB`} |`;
  };
  const loads = result.drains.map((entry) => entry.loadAverage);
  return [
    '## Consumer loops (input.loops)',
    '',
    `\`npm run bench:loops\` (also part of \`npm run bench\`): one backlog of ${integer(result.backlog)} events on ${result.partitions} partitions (${result.model}), drained in ${result.rounds} round${result.rounds === 1 ? '' : 's'} of rotating order by each variant, a fresh consumer group each time; medians, each drain in brackets. Each drain is measured from the moment its group is Stable with all its members to the last prediction: a process's loops join one after another, and on this broker (no initial rebalance delay) the first loop's join completes alone, with nothing to do until the others' joins rebalance the group (a process takes partitions once all its loops are in), a start-up cost the scale-out section measures with joins. ${countedByEndOffsets(result) ? `Predictions are counted from the output topic's end offsets, polled every 25 ms, not read: a consumer reading every prediction, as the other drains in this file do, takes cores the service competes for (${READER_CORES_NOTE}); the harness cores column is what the polls took. ` : ''}input.loops auto resolved to ${result.autoLoops} on this machine (${result.cpus} CPUs), where the broker${countedByEndOffsets(result) ? ' shares' : ' and the reading consumer share'} the same cores. Load average at the drains' starts: ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}.${result.quick ? ' A --quick run: a check, not figures.' : ''}`,
    '',
    '| variant | drain rate | CPU per record | cores used | machine cores busy | harness cores | records per CPU-second | resident memory |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    // Results from before a variant was measured have no row for it.
    ...LOOP_VARIANTS.filter((variant) => result.drains.some((entry) => entry.variant === variant)).map(row),
    '',
    `With ${result.autoLoops} loops the service drains ${optionalRatio(summary.autoVsOneLoop)} as fast as with one, ${optionalRatio(summary.autoVsPipe)} the bare pipe's rate (${optionalRatio(summary.autoVsPublishedPipe)} the rate of the same pipe on kafkajs as published, without the patches streamscore applies to kafkajs's record paths), at ${optionalRatio(summary.autoCpuVsOneLoop)} one loop's CPU per record: throughput grows with the cores the loops get, and one core buys the records per CPU-second in the last column, whatever the loop count. Beyond this machine's cores, more loops only add threads competing for the same CPUs; more throughput then comes from more instances (the scale-out section).`,
    '',
    ...ceilingText(result, summary),
  ];
}
