/**
 * The shadow benchmark's part of BENCHMARKS.md: its two rows in the targets table and its own section,
 * also printed by loadtests/shadow.ts at the end of a run.
 */
import {
  drainRates,
  integer,
  latencyCells,
  micros,
  ms,
  percent,
  rate,
  ratio,
  signedMicros,
  sustainedRate,
  verdict,
} from './format.js';
import {
  MOSTLY_SCORED,
  roundOrder,
  SHADOW_GOALS,
  SHADOW_VARIANT_LABELS,
  type ShadowProfile,
  type ShadowResult,
  type ShadowVariant,
  shadowRowsGiven,
  summarizeShadow,
} from './shadow.js';
import type { ShadowRowCounts } from './targets.js';

/** Parts of the profile shown one by one; the rest are summed. */
const PROFILE_PARTS_SHOWN = 10;
const PROFILE_FUNCTIONS_SHOWN = 8;

const searchOf = (result: ShadowResult, variant: ShadowVariant) =>
  result.searches.find((entry) => entry.variant === variant)!;

/** "97.3% (2.1% late, 0.6% shed)": the share of the shadow's rows it scored, and what became of the rest. */
export function shadowRowsCell(rows: ShadowRowCounts): string {
  const given = shadowRowsGiven(rows);
  if (given === 0) return '';
  const share = (count: number) => percent(count / given);
  const others = [
    rows.timeout > 0 ? `${share(rows.timeout)} late` : '',
    rows.shed > 0 ? `${share(rows.shed)} shed` : '',
    rows.error > 0 ? `${share(rows.error)} failed` : '',
  ].filter(Boolean);
  return `${share(rows.ok)}${others.length > 0 ? ` (${others.join(', ')})` : ''}`;
}

/** The summary by the current rules, whatever the file holds (see summarizeShadow). */
const judged = (result: ShadowResult): ShadowResult => ({ ...result, summary: summarizeShadow(result) });

export function shadowTargetRows(stored: ShadowResult): string[] {
  const result = judged(stored);
  const { summary } = result;
  const { alone, shadow } = summary;
  const draining =
    summary.drainRatio === null
      ? `draining a backlog: ${shadow.unfinishedDrains} of ${result.rounds} drains with the shadow stalled`
      : `${ratio(summary.drainRatio)} draining a backlog`;
  const onDrain =
    summary.throughputVerdictOn === 'drain'
      ? ' (verdict on the drain ratio: a search was harness-bound)'
      : '';
  const scoredThere =
    summary.shadowScoredAtMax === null
      ? ''
      : `; the shadow scored ${percent(summary.shadowScoredAtMax)} of its rows at that rate`;
  return [
    `| throughput, champion + one shadow / champion alone | ${ratio(summary.sustainedRatio)} sustained (${sustainedRate(searchOf(result, 'shadow'))} vs ${sustainedRate(searchOf(result, 'alone'))})${scoredThere}; ${draining}${onDrain} | ≥ ${SHADOW_GOALS.minThroughputRatio}× | ${verdict(summary.throughputMet)} |`,
    `| champion p99 with one shadow / alone, at the same rate | ${ratio(summary.p99Ratio)} (${ms(shadow.medianP99Ms)} ms vs ${ms(alone.medianP99Ms)} ms at ${rate(summary.latencyRate)}, medians of ${result.rounds}) | ≤ ${SHADOW_GOALS.maxP99Ratio}× | ${verdict(summary.p99Met)} |`,
  ];
}

const drainCell = (result: ShadowResult, variant: ShadowVariant) =>
  drainRates(
    result.summary[variant].medianDrainRate,
    result.drains.filter((entry) => entry.variant === variant).map((entry) => entry.drain),
  );

function introduction(result: ShadowResult): string[] {
  const { repository } = result;
  const backlog = result.drains[0]?.drain.backlog ?? 0;
  const loads = [
    ...result.drains.map((entry) => entry.loadAverage),
    ...result.searches.flatMap((search) => search.steps.map((step) => step.loadAverage)),
    ...result.latencyRuns.map((entry) => entry.loadAverage),
  ];
  return [
    '## One shadow beside the champion',
    '',
    `The full service serving ${result.model}@${repository.champion.version} alone, and with the challenger` +
      ` \`${repository.challenger}\` (as \`STREAMSCORE_EXPERIMENTS_CHALLENGERS\` takes it): the same model file,` +
      ` published in a temporary repository as \`${repository.shadow.model}\` (only the manifest's name changed),` +
      ' shadowing every key; each shadowed event also gets a comparison record on `<output topic>.comparisons`.' +
      ` Not a shadow of ${result.model}@${repository.champion.version} itself: the prediction cache keys on model` +
      ' name and version, so that shadow would find every score the champion had just stored and the run would' +
      ' measure a cache probe, not a second model. The prediction cache is' +
      ` ${result.cacheEnabled ? 'on (the default)' : 'off'} in both variants, both serve from the same repository,` +
      ' and every other setting is the default.',
    '',
    `${result.rounds} round${result.rounds === 1 ? '' : 's'} of each variant in alternating order within one run:` +
      ` drains of a ${integer(backlog)}-event backlog; one bisection per variant over the same range (30–150% of the` +
      ' median drain rate of the champion alone; the rules of the search below), taking their steps in turn;' +
      ` latency at ${percent(result.latencyFraction)} of the lower of the two maxima, a rate both carry; one run of each` +
      ' at that rate with the main thread under the CPU profiler. Medians over the rounds; CPU per record is the' +
      ' service process (all threads) over the predictions it published.' +
      (loads.length > 0
        ? ` The machine's 1-minute load average at the start of the runs was ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} (2 cores; the broker, the generator and the service under test make up part of it, and other work on the machine the rest).`
        : ''),
    '',
  ];
}

function summaryTable(result: ShadowResult): string[] {
  const { summary } = result;
  const { alone, shadow } = summary;
  const atRate = rate(summary.latencyRate);
  const drainVerdict = summary.throughputVerdictOn === 'drain' ? verdict(summary.throughputMet) : '';
  const sustainedVerdict = summary.throughputVerdictOn === 'sustained' ? verdict(summary.throughputMet) : '';
  const drainCpu = (value: number | null) => (value === null ? 'n/a' : micros(value));
  return [
    '| measure | champion alone | champion + shadow | shadow / alone | goal | verdict |',
    '| --- | --- | --- | --- | --- | --- |',
    `| maximum sustainable throughput | ${sustainedRate(searchOf(result, 'alone'))} | ${sustainedRate(searchOf(result, 'shadow'))} | ${ratio(summary.sustainedRatio)} | ≥ ${SHADOW_GOALS.minThroughputRatio}× | ${sustainedVerdict} |`,
    `| drain rate: median (per round) | ${drainCell(result, 'alone')} | ${drainCell(result, 'shadow')} | ${summary.drainRatio === null ? 'n/a' : ratio(summary.drainRatio)} | | ${drainVerdict} |`,
    `| champion p99 at ${atRate}: median (per round) | ${ms(alone.medianP99Ms)} ms (${alone.latencyP99Ms.map(ms).join(', ')}) | ${ms(shadow.medianP99Ms)} ms (${shadow.latencyP99Ms.map(ms).join(', ')}) | ${ratio(summary.p99Ratio)} | ≤ ${SHADOW_GOALS.maxP99Ratio}× | ${verdict(summary.p99Met)} |`,
    `| champion p50 at ${atRate}: median | ${ms(alone.medianP50Ms)} ms | ${ms(shadow.medianP50Ms)} ms | ${ratio(shadow.medianP50Ms / alone.medianP50Ms)} | | |`,
    `| CPU per record at ${atRate}: median | ${micros(alone.medianLatencyCpuMicrosPerRecord)} | ${micros(shadow.medianLatencyCpuMicrosPerRecord)} | ${signedMicros(summary.shadowCpuMicrosPerRecord.atLatencyRate)} | | |`,
    ...(alone.medianLatencyMainThreadCpuMicrosPerRecord !== null &&
    shadow.medianLatencyMainThreadCpuMicrosPerRecord !== null
      ? [
          `| of which the main thread: median | ${micros(alone.medianLatencyMainThreadCpuMicrosPerRecord)} | ${micros(shadow.medianLatencyMainThreadCpuMicrosPerRecord)} | ${signedMicros(shadow.medianLatencyMainThreadCpuMicrosPerRecord - alone.medianLatencyMainThreadCpuMicrosPerRecord)} | | |`,
        ]
      : []),
    `| CPU per record draining: median of the drains that caught up | ${drainCpu(alone.medianDrainCpuMicrosPerRecord)} | ${drainCpu(shadow.medianDrainCpuMicrosPerRecord)} | ${summary.shadowCpuMicrosPerRecord.draining === null ? 'n/a' : signedMicros(summary.shadowCpuMicrosPerRecord.draining)} | | |`,
    '',
  ];
}

/** What the profiled pair says the shadow's CPU went to: the parts that grew most, largest first. */
function costSources(result: ShadowResult): string {
  const alone = result.profiles.find((profile) => profile.variant === 'alone');
  const shadow = result.profiles.find((profile) => profile.variant === 'shadow');
  if (!alone || !shadow) return '';
  const grown = Object.keys(shadow.parts)
    .map((part) => ({ part, growth: shadow.parts[part]! - (alone.parts[part] ?? 0) }))
    .filter(({ growth }) => growth > 0)
    .sort((a, b) => b.growth - a.growth)
    .slice(0, 4);
  const mainGrowth = shadow.mainThreadMicrosPerRecord - alone.mainThreadMicrosPerRecord;
  const otherGrowth =
    shadow.processCpuMicrosPerRecord -
    shadow.mainThreadMicrosPerRecord -
    (alone.processCpuMicrosPerRecord - alone.mainThreadMicrosPerRecord);
  return (
    ` In the profiled pair, ${signedMicros(mainGrowth)} of it is on the main thread, most in` +
    ` ${grown.map(({ part, growth }) => `${part} (${signedMicros(growth)})`).join(', ')}` +
    " (src/routing and src/codec write the comparisons, kafkajs and node's buffers publish them), and" +
    ` ${signedMicros(otherGrowth)} on other threads, where the inference worker runs the second model.`
  );
}

function findings(result: ShadowResult): string[] {
  const { summary } = result;
  const { alone, shadow } = summary;
  const rows = shadow.shadowRows;
  const lines = [
    summary.shadowScoredAtMax === null
      ? '- No rate the shadow variant was probed at held.'
      : `- **At its maximum (${rate(shadow.maxSustainedRate)}) the shadow scored ${percent(summary.shadowScoredAtMax)} of its rows**; ` +
        (summary.mostlyScoredRate === null
          ? `at no rate probed that held did it score ${percent(MOSTLY_SCORED)} or more.`
          : `the highest rate probed that held with at least ${percent(MOSTLY_SCORED)} scored was ${rate(summary.mostlyScoredRate)}, ${ratio(summary.mostlyScoredRate / alone.maxSustainedRate)} the champion's maximum alone.`) +
        " The throughput verdict counts the champion's predictions, as the goal does; the shadow gives up rows to keep them flowing.",
    `- Shadow rows scored: at ${rate(summary.latencyRate)} ${shadowRowsCell(rows.atLatencyRate) || 'none given'}; in the search ${shadowRowsCell(rows.searching) || 'none given'}; draining ${shadowRowsCell(rows.draining) || 'none given'}.` +
      " A shadow's inference waits for an idle inference worker, so it never queues ahead of the champion's; the busier" +
      ' the worker, the more of its rows are late (still unscored `experiments.shadowDeadlineMs` after the champion' +
      ' scored the batch) or shed (more than `experiments.shedQueuedRows` rows queued when the batch started).',
    `- **What the shadow costs: ${signedMicros(summary.shadowCpuMicrosPerRecord.atLatencyRate)} of process CPU per record at ${rate(summary.latencyRate)}**` +
      (summary.shadowCpuMicrosPerRecord.draining === null
        ? ' (no figure draining, since drains with the shadow did not catch up).'
        : `, ${signedMicros(summary.shadowCpuMicrosPerRecord.draining)} draining (where the shadow scored ${percent(rows.draining.ok / Math.max(1, shadowRowsGiven(rows.draining)))} of its rows).`) +
      costSources(result),
    `- A batch's predictions are delivered together with its comparisons, once the shadow has scored or its` +
      ` deadline has passed, which can only add to the champion's latency; at ${rate(summary.latencyRate)} its p50 went from` +
      ` ${ms(alone.medianP50Ms)} to ${ms(shadow.medianP50Ms)} ms and its p99 from ${ms(alone.medianP99Ms)} to` +
      ` ${ms(shadow.medianP99Ms)} ms (medians of ${result.rounds}; see the rounds below for how much they vary).`,
  ];
  if (result.outputBytes && summary.comparisonByteShare !== null) {
    const { predictions, comparisons } = result.outputBytes;
    lines.push(
      `- Comparison records were ${percent(summary.comparisonByteShare)} of the bytes the service published in a drain` +
        ` with the shadow, ${ratio(1 / (1 - summary.comparisonByteShare))} what it publishes alone:` +
        ` ${integer(comparisons.records)} comparisons of ${integer(comparisons.bytes / Math.max(1, comparisons.records))} B beside` +
        ` ${integer(predictions.records)} predictions of ${integer(predictions.bytes / Math.max(1, predictions.records))} B (keys, values and headers).`,
    );
  }
  if (shadow.unfinishedDrains > 0) {
    const stalled = result.drains.filter((entry) => entry.variant === 'shadow' && entry.drain.stalled);
    lines.push(
      `- **With the shadow, ${shadow.unfinishedDrains} of ${result.rounds} drains did not catch up**` +
        (stalled.length > 0
          ? `: ${stalled.length} stalled, publishing nothing more for 5 s, after ${stalled.map((entry) => integer(entry.drain.outputs)).join(', ')} of ${integer(stalled[0]!.drain.backlog)} predictions.`
          : '.'),
    );
  }
  const unclean = [...summary.alone.uncleanStops, ...shadow.uncleanStops];
  if (unclean.length > 0) {
    lines.push(
      `- **The service process died while stopping** (after its figures were taken, which stand) in ${unclean.length}` +
        ` run${unclean.length === 1 ? '' : 's'}: ${summary.alone.uncleanStops.length} alone, ${shadow.uncleanStops.length} with the shadow;` +
        ` it ended with ${[...new Set(unclean)].join(', ')}.`,
    );
  }
  return [...lines, ''];
}

function roundTables(result: ShadowResult): string[] {
  const atRate = rate(result.summary.latencyRate);
  const lines = [
    '| round | variant | load average | drain | CPU per record | shadow rows scored |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const { round, variant, loadAverage, drain } of result.drains) {
    lines.push(
      `| ${round} | ${SHADOW_VARIANT_LABELS[variant]} | ${loadAverage.toFixed(1)} | ${drain.completed ? rate(drain.rate) : `${drain.stalled ? 'stalled' : 'timed out'} at ${integer(drain.outputs)} of ${integer(drain.backlog)}`} | ${drain.completed ? micros(drain.stats.cpuMicrosPerOutput) : ''} | ${shadowRowsCell(drain.stats.shadowRows)} |`,
    );
  }
  lines.push(
    '',
    `At ${atRate}, latency in milliseconds from each event's scheduled send to its prediction:`,
    '',
    '| round | variant | load average | p50 | p99 | p99.9 | max | never arrived | CPU per record | shadow rows scored |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const { round, variant, loadAverage, run } of result.latencyRuns) {
    lines.push(
      `| ${round} | ${SHADOW_VARIANT_LABELS[variant]} | ${loadAverage.toFixed(1)} | ${latencyCells(run.run.latencyMs)} | ${integer(run.run.unreceived)} | ${micros(run.stats.cpuMicrosPerOutput)} | ${shadowRowsCell(run.stats.shadowRows)} |`,
    );
  }
  lines.push(
    '',
    'The searches, step by step in the order they ran:',
    '',
    '| step | variant | load average | offered | held | lag growth | lag at end | p99 | CPU per record | shadow rows scored |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  const steps = Math.max(...result.searches.map((search) => search.steps.length));
  for (let index = 0; index < steps; index++) {
    for (const variant of roundOrder(index + 1)) {
      const step = searchOf(result, variant).steps[index];
      if (!step) continue;
      lines.push(
        `| ${index + 1} | ${SHADOW_VARIANT_LABELS[variant]} | ${step.loadAverage.toFixed(1)} | ${rate(step.rate)} | ${step.sustained ? 'yes' : step.generatorLimited ? 'no (generator behind)' : 'no'} | ${step.lagGrowthSeconds.toFixed(2)} s | ${integer(step.lagAtEnd)} | ${ms(step.p99Ms)} ms | ${micros(step.cpuMicrosPerOutput)} | ${shadowRowsCell(step.shadowRows)} |`,
      );
    }
  }
  return [...lines, ''];
}

/** Main-thread self time per record by part, alone against with the shadow, largest differences first. */
function profileTables(result: ShadowResult): string[] {
  const alone = result.profiles.find((profile) => profile.variant === 'alone');
  const shadow = result.profiles.find((profile) => profile.variant === 'shadow');
  if (!alone || !shadow) return [];
  const otherThreads = (profile: ShadowProfile) =>
    profile.processCpuMicrosPerRecord - profile.mainThreadMicrosPerRecord;
  const differences = (field: 'parts' | 'functions') =>
    [...new Set([...Object.keys(alone[field]), ...Object.keys(shadow[field])])]
      .map((key) => ({
        key,
        alone: alone[field][key] ?? 0,
        shadow: shadow[field][key] ?? 0,
      }))
      .sort((a, b) => Math.abs(b.shadow - b.alone) - Math.abs(a.shadow - a.alone));
  const parts = differences('parts');
  const shown = parts.slice(0, PROFILE_PARTS_SHOWN);
  const rest = parts.slice(PROFILE_PARTS_SHOWN);
  const row = (label: string, aloneMicros: number, shadowMicros: number) =>
    `| ${label} | ${micros(aloneMicros)} | ${micros(shadowMicros)} | ${signedMicros(shadowMicros - aloneMicros)} |`;
  const sum = (entries: { alone: number; shadow: number }[], side: 'alone' | 'shadow') =>
    entries.reduce((total, entry) => total + entry[side], 0);
  const mainThreadSource =
    alone.mainThreadMeasured && shadow.mainThreadMeasured
      ? "the main thread's CPU from Linux's per-thread accounting, divided among its parts by their share of the profiler's busy samples"
      : "the main thread's time from the profiler's busy samples (no per-thread CPU accounting here, so time spent waiting for a core counts as busy)";
  const lines = [
    `Where the CPU goes at ${rate(result.summary.latencyRate)}: one more run of each, the service's main thread under` +
      ` V8's sampling profiler (which costs a little itself), per prediction: ${mainThreadSource}.` +
      ' "Other threads" is the process CPU less the main thread: the inference worker, where both models run,' +
      ` with V8's and libuv's helper threads. Shadow rows scored in the profiled run: ${shadowRowsCell(shadow.shadowRows) || 'none given'}.`,
    '',
    '| part | champion alone | champion + shadow | difference |',
    '| --- | --- | --- | --- |',
    row('**process, every thread**', alone.processCpuMicrosPerRecord, shadow.processCpuMicrosPerRecord),
    row('other threads (inference worker, libuv, V8 helpers)', otherThreads(alone), otherThreads(shadow)),
    row('**main thread**', alone.mainThreadMicrosPerRecord, shadow.mainThreadMicrosPerRecord),
    ...shown.map((entry) => row(`main: ${entry.key}`, entry.alone, entry.shadow)),
    row(`main: ${rest.length} other parts`, sum(rest, 'alone'), sum(rest, 'shadow')),
    '',
    'The functions whose main-thread self time changed most:',
    '',
    '| function | champion alone | champion + shadow | difference |',
    '| --- | --- | --- | --- |',
    ...differences('functions')
      .slice(0, PROFILE_FUNCTIONS_SHOWN)
      .map((entry) => row(`\`${entry.key}\``, entry.alone, entry.shadow)),
    '',
    `Profiles: \`${alone.path.replace(/^.*\/\.cache\//, '.cache/')}\`, \`${shadow.path.replace(/^.*\/\.cache\//, '.cache/')}\` (not committed).`,
    '',
  ];
  return lines;
}

export function shadowMarkdown(stored: ShadowResult): string[] {
  const result = judged(stored);
  return [
    ...introduction(result),
    ...summaryTable(result),
    ...findings(result),
    ...roundTables(result),
    ...profileTables(result),
  ];
}
