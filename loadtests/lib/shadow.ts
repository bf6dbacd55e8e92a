/**
 * What one shadow model costs the champion: the full service with the champion alone, and with the same
 * model published under another name as a shadow of every key, in alternating rounds of one run, so a
 * slow minute of this shared 2-core machine lands on both variants rather than on one. In order: drains
 * of a backlog; the highest rate with flat lag, both searches stepping in turn; latency at one rate both
 * carry; then one profiled run of each at that rate, to say where the shadow's CPU goes.
 *
 * Why not a shadow of the champion's own model@version: the prediction cache keys on model name and
 * version, so every shadow row would be a cache hit on the score the champion just stored, and the
 * benchmark would measure a hash probe instead of a second model. The copy has the same file, the same
 * features and the same cost per row, and its own cache entries, as a retrained candidate would.
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packagePath } from '../../src/config/index.js';
import { listVersions, selectVersion } from '../../src/models/index.js';
import { createTopics, deleteTopics, topicPayloadBytes, uniqueName } from './broker.js';
import { type CpuProfile, functionOf, IDLE, partOf, selfTimes } from './cpu-profile.js';
import { createEventSource } from './events.js';
import type { BenchOptions } from './options.js';
import { alternate, drainOutcome, loadAverage, median } from './rounds.js';
import {
  type BenchContext,
  createBisection,
  type DrainRun,
  drainCapacity,
  harnessBound,
  type MaxRateSearch,
  type OpenLoopRun,
  openLoopAgainst,
  probeRate,
  publishBacklog,
  type SearchStep,
  type TargetSetup,
} from './scenarios.js';
import type { ShadowRowCounts } from './targets.js';

export type ShadowVariant = 'alone' | 'shadow';

export const SHADOW_VARIANT_LABELS: Record<ShadowVariant, string> = {
  alone: 'champion alone',
  shadow: 'champion + shadow',
};

/** The goals: throughput with a shadow at least 0.6× the champion's alone, p99 at most 1.3×. */
export const SHADOW_GOALS = { minThroughputRatio: 0.6, maxP99Ratio: 1.3 } as const;

/**
 * Latency is compared at half the lower of the two maxima: a load both variants carry, as the bench
 * compares the service with the bare pipe at half the service's maximum. Above the shadow's maximum its
 * p99 would only measure a growing backlog, which the throughput ratio already reports.
 */
export const SHADOW_LATENCY_FRACTION = 0.5;

/** Rounds of each variant: three give a median that one bad stretch of the machine does not move. */
export const shadowRounds = (options: BenchOptions) => (options.quick ? 1 : 3);

const SHADOW_VARIANT_NAME = 'same';
/** Every key: the most work one shadow can add. */
const SHADOW_SHARE = 1;
/** Functions kept per profiled run in the results file. */
const PROFILE_TOP_FUNCTIONS = 40;

export interface ShadowRepository {
  directory: string;
  champion: { model: string; version: string };
  shadow: { model: string; version: string };
  /** `experiments.challengers` entry, as STREAMSCORE_EXPERIMENTS_CHALLENGERS takes it. */
  challenger: string;
  remove(): Promise<void>;
}

/**
 * A temporary repository holding the champion's latest version as it is, and the same folder published as
 * `<model>-shadow`, manifest last, its name changed and nothing else. Both variants serve from it, so the
 * champion alone loads the very files it loads beside its shadow.
 */
export async function prepareShadowRepository(model: string): Promise<ShadowRepository> {
  const packaged = packagePath('models');
  const latest = selectVersion(await listVersions(packaged, model), 'latest');
  if (!latest) throw new Error(`models/${model} holds no version`);
  const directory = await mkdtemp(join(tmpdir(), 'streamscore-bench-shadow-'));
  const shadowModel = `${model}-shadow`;
  const publish = async (name: string) => {
    const target = join(directory, name, latest.version);
    await cp(latest.directory, target, {
      recursive: true,
      filter: (path) => !path.endsWith('manifest.json'),
    });
    const manifest = JSON.parse(await readFile(join(latest.directory, 'manifest.json'), 'utf8')) as {
      name: string;
    };
    manifest.name = name;
    await writeFile(join(target, 'manifest.json'), JSON.stringify(manifest, null, 2));
  };
  await publish(model);
  await publish(shadowModel);
  return {
    directory,
    champion: { model, version: latest.version },
    shadow: { model: shadowModel, version: latest.version },
    challenger: `${SHADOW_VARIANT_NAME}:shadow:${shadowModel}@${latest.version}:${SHADOW_SHARE}`,
    remove: () => rm(directory, { recursive: true, force: true }),
  };
}

export interface ShadowDrain {
  variant: ShadowVariant;
  round: number;
  loadAverage: number;
  drain: DrainRun;
}

export interface ShadowLatencyRun {
  variant: ShadowVariant;
  round: number;
  loadAverage: number;
  run: OpenLoopRun;
}

export type ShadowSearchStep = SearchStep & {
  shadowRows: ShadowRowCounts;
  loadAverage: number;
  /** See TargetStats.uncleanStop. */
  uncleanStop?: string;
};

export interface ShadowSearch extends MaxRateSearch {
  variant: ShadowVariant;
  steps: ShadowSearchStep[];
}

/** Bytes (keys, values, headers) the service published in one drain, by topic. */
export interface OutputBytes {
  predictions: { records: number; bytes: number };
  comparisons: { records: number; bytes: number };
}

/** One run at the latency rate with the target's main thread under the CPU profiler. */
export interface ShadowProfile {
  variant: ShadowVariant;
  /** The .cpuprofile file, for Chrome DevTools or speedscope. */
  path: string;
  records: number;
  /** Process CPU (every thread) per prediction, from the target's own accounting. */
  processCpuMicrosPerRecord: number;
  /**
   * The main thread's CPU per prediction: Linux's own accounting of that thread where it is available
   * (mainThreadMeasured), else the time the profiler found it not idle, which counts time spent waiting
   * for a core as busy.
   */
  mainThreadMicrosPerRecord: number;
  mainThreadMeasured: boolean;
  /**
   * Main-thread CPU per prediction by package, source folder, GC or native function: each part's share of
   * the profiler's busy samples times mainThreadMicrosPerRecord.
   */
  parts: Record<string, number>;
  /** The functions with the most self time, per prediction, the same way. */
  functions: Record<string, number>;
  shadowRows: ShadowRowCounts;
  uncleanStop?: string;
}

export interface VariantSummary {
  variant: ShadowVariant;
  /** Median over the drains that caught up; null when none did. */
  medianDrainRate: number | null;
  medianDrainCpuMicrosPerRecord: number | null;
  /** Drains that stopped making progress (no prediction for seconds) or ran out of time. */
  unfinishedDrains: number;
  maxSustainedRate: number;
  latencyP99Ms: number[];
  medianP99Ms: number;
  medianP50Ms: number;
  medianLatencyCpuMicrosPerRecord: number;
  /** The main thread's part of it; null where the platform does not account for threads apart. */
  medianLatencyMainThreadCpuMicrosPerRecord: number | null;
  /** What became of the shadow's rows, by phase; zero for the champion alone. */
  shadowRows: { draining: ShadowRowCounts; searching: ShadowRowCounts; atLatencyRate: ShadowRowCounts };
  /** How each run whose target process died while stopping (after reporting its figures) ended. */
  uncleanStops: string[];
}

export interface ShadowSummary {
  alone: VariantSummary;
  shadow: VariantSummary;
  sustainedRatio: number;
  /** Share of its rows the shadow scored in the search step at its maximum; null when none held. */
  shadowScoredAtMax: number | null;
  /**
   * Of the rates the shadow's search probed, the highest that held with the shadow scoring at least
   * MOSTLY_SCORED of its rows: a shadow that is mostly late or shed is not doing its work.
   */
  mostlyScoredRate: number | null;
  /** Null unless every drain of both variants caught up: a stalled drain has no rate to compare. */
  drainRatio: number | null;
  /**
   * A search ended at the harness's limit, not the target's (see harnessBound): the throughput verdict then
   * uses the drain ratio, as the bench's bare-pipe verdict does.
   */
  throughputVerdictOn: 'sustained' | 'drain';
  /** The rate both variants ran at for latency. */
  latencyRate: number;
  p99Ratio: number;
  /** What the shadow adds per prediction, process CPU (all threads), at the latency rate and draining. */
  shadowCpuMicrosPerRecord: { atLatencyRate: number; draining: number | null };
  /** Comparison bytes over all bytes the service published (predictions + comparisons). */
  comparisonByteShare: number | null;
  throughputMet: boolean;
  p99Met: boolean;
}

export interface ShadowResult {
  model: string;
  repository: Omit<ShadowRepository, 'directory' | 'remove'>;
  cacheEnabled: boolean;
  rounds: number;
  latencyFraction: number;
  drains: ShadowDrain[];
  searches: ShadowSearch[];
  latencyRuns: ShadowLatencyRun[];
  profiles: ShadowProfile[];
  outputBytes: OutputBytes | null;
  summary: ShadowSummary;
}

export const noShadowRows = (): ShadowRowCounts => ({ ok: 0, timeout: 0, error: 0, shed: 0 });

export function addShadowRows(total: ShadowRowCounts, rows: ShadowRowCounts): ShadowRowCounts {
  return {
    ok: total.ok + rows.ok,
    timeout: total.timeout + rows.timeout,
    error: total.error + rows.error,
    shed: total.shed + rows.shed,
  };
}

export const shadowRowsGiven = (rows: ShadowRowCounts) => rows.ok + rows.timeout + rows.error + rows.shed;

/** Champion alone first in odd rounds, second in even ones (see lib/rounds.ts). */
export const roundOrder = (round: number): ShadowVariant[] => alternate(round, ['alone', 'shadow']);

const finished = (drain: DrainRun) => drain.completed;

/** See ShadowSummary.mostlyScoredRate. */
export const MOSTLY_SCORED = 0.9;

const scoredShare = (rows: ShadowRowCounts) => {
  const given = shadowRowsGiven(rows);
  return given > 0 ? rows.ok / given : 0;
};

/**
 * The figures and verdicts from a run's raw results. The report computes them again from a results file,
 * so a file written before a change to these rules is judged by the current ones.
 */
export function summarizeShadow({
  drains,
  searches,
  latencyRuns,
  profiles,
  outputBytes,
}: Pick<ShadowResult, 'drains' | 'searches' | 'latencyRuns' | 'profiles' | 'outputBytes'>): ShadowSummary {
  const latencyRate = shadowLatencyRate(searches);
  const variantSummary = (variant: ShadowVariant): VariantSummary => {
    const ownDrains = drains.filter((entry) => entry.variant === variant).map((entry) => entry.drain);
    const caughtUp = ownDrains.filter(finished);
    const ownRuns = latencyRuns.filter((entry) => entry.variant === variant).map((entry) => entry.run);
    const search = searches.find((entry) => entry.variant === variant)!;
    const uncleanStops = [
      ...ownDrains.map((drain) => drain.stats.uncleanStop),
      ...ownRuns.map((run) => run.stats.uncleanStop),
      ...search.steps.map((step) => step.uncleanStop),
      ...profiles.filter((profile) => profile.variant === variant).map((profile) => profile.uncleanStop),
    ].filter((ending): ending is string => ending !== undefined);
    const rowsOf = (all: readonly ShadowRowCounts[]) => all.reduce(addShadowRows, noShadowRows());
    return {
      variant,
      medianDrainRate: caughtUp.length > 0 ? median(caughtUp.map((drain) => drain.rate)) : null,
      medianDrainCpuMicrosPerRecord:
        caughtUp.length > 0 ? median(caughtUp.map((drain) => drain.stats.cpuMicrosPerOutput)) : null,
      unfinishedDrains: ownDrains.length - caughtUp.length,
      maxSustainedRate: search.maxRate,
      latencyP99Ms: ownRuns.map((run) => run.run.latencyMs.p99),
      medianP99Ms: median(ownRuns.map((run) => run.run.latencyMs.p99)),
      medianP50Ms: median(ownRuns.map((run) => run.run.latencyMs.p50)),
      medianLatencyCpuMicrosPerRecord: median(ownRuns.map((run) => run.stats.cpuMicrosPerOutput)),
      medianLatencyMainThreadCpuMicrosPerRecord: ownRuns.every(
        (run) => run.stats.mainThreadCpuMicrosPerOutput !== undefined,
      )
        ? median(ownRuns.map((run) => run.stats.mainThreadCpuMicrosPerOutput!))
        : null,
      shadowRows: {
        draining: rowsOf(ownDrains.map((drain) => drain.stats.shadowRows)),
        searching: rowsOf(search.steps.map((step) => step.shadowRows)),
        atLatencyRate: rowsOf(ownRuns.map((run) => run.stats.shadowRows)),
      },
      uncleanStops,
    };
  };
  const alone = variantSummary('alone');
  const shadow = variantSummary('shadow');
  const sustainedRatio = shadow.maxSustainedRate / alone.maxSustainedRate;
  const shadowSteps = searches.find((search) => search.variant === 'shadow')!.steps;
  const atMax = shadowSteps.find((step) => step.sustained && step.rate === shadow.maxSustainedRate);
  const mostlyScored = shadowSteps
    .filter((step) => step.sustained && scoredShare(step.shadowRows) >= MOSTLY_SCORED)
    .map((step) => step.rate);
  const everyDrainFinished = alone.unfinishedDrains === 0 && shadow.unfinishedDrains === 0;
  const drainRatio =
    everyDrainFinished && alone.medianDrainRate && shadow.medianDrainRate !== null
      ? shadow.medianDrainRate / alone.medianDrainRate
      : null;
  // A drain ratio that cannot be computed leaves the sustained ratio, bound or not, as the only figure.
  const throughputVerdictOn = searches.some(harnessBound) && drainRatio !== null ? 'drain' : 'sustained';
  const p99Ratio = shadow.medianP99Ms / alone.medianP99Ms;
  const publishedBytes = outputBytes ? outputBytes.predictions.bytes + outputBytes.comparisons.bytes : 0;
  return {
    alone,
    shadow,
    sustainedRatio,
    shadowScoredAtMax: atMax ? scoredShare(atMax.shadowRows) : null,
    mostlyScoredRate: mostlyScored.length > 0 ? Math.max(...mostlyScored) : null,
    drainRatio,
    throughputVerdictOn,
    latencyRate,
    p99Ratio,
    shadowCpuMicrosPerRecord: {
      atLatencyRate: shadow.medianLatencyCpuMicrosPerRecord - alone.medianLatencyCpuMicrosPerRecord,
      draining:
        everyDrainFinished &&
        alone.medianDrainCpuMicrosPerRecord !== null &&
        shadow.medianDrainCpuMicrosPerRecord !== null
          ? shadow.medianDrainCpuMicrosPerRecord - alone.medianDrainCpuMicrosPerRecord
          : null,
    },
    comparisonByteShare:
      outputBytes && publishedBytes > 0 ? outputBytes.comparisons.bytes / publishedBytes : null,
    throughputMet:
      (throughputVerdictOn === 'drain' ? drainRatio! : sustainedRatio) >= SHADOW_GOALS.minThroughputRatio,
    p99Met: p99Ratio <= SHADOW_GOALS.maxP99Ratio,
  };
}

const shadowLatencyRate = (searches: readonly MaxRateSearch[]) =>
  Math.round(Math.min(...searches.map((search) => search.maxRate)) * SHADOW_LATENCY_FRACTION);

function heading(text: string): void {
  process.stderr.write(`\n== ${text}\n`);
}

/**
 * Runs the whole comparison: `rounds` drains of each variant, one interleaved search each, `rounds`
 * latency runs of each at the same rate, and one profiled run of each. About 10 minutes with the full
 * options and 3 rounds.
 */
export async function measureShadowCost(context: BenchContext, rounds: number): Promise<ShadowResult> {
  const { options } = context;
  const repository = await prepareShadowRepository(options.model);
  const setups: Record<ShadowVariant, TargetSetup> = {
    alone: { modelRepository: repository.directory },
    shadow: { modelRepository: repository.directory, challengers: [repository.challenger] },
  };
  try {
    heading(`shadow: ${repository.challenger} beside ${options.model}, ${rounds} rounds of each, drains`);
    const { drains, outputBytes } = await alternatingDrains(context, rounds, setups);

    heading('shadow: highest rate with flat lag, both searches stepping in turn');
    // Both searches bisect the same range, set by the champion's drains alone: a shadow's drain that
    // stalled has no rate to set one with, and the same steps make the two searches comparable.
    const aloneDrains = drains.filter((entry) => entry.variant === 'alone' && finished(entry.drain));
    const searchBase = median(
      (aloneDrains.length > 0 ? aloneDrains : drains.filter((entry) => entry.variant === 'alone')).map(
        (entry) => entry.drain.rate,
      ),
    );
    const searches = await interleavedSearches(context, searchBase, setups);
    const latencyRate = shadowLatencyRate(searches);

    heading(`shadow: latency at ${latencyRate}/s, half the lower maximum`);
    const latencyRuns: ShadowLatencyRun[] = [];
    const timing = {
      warmupSeconds: options.warmupSeconds,
      measureSeconds: options.measureSeconds,
      graceSeconds: 10,
    };
    for (let round = 1; round <= rounds; round++) {
      for (const variant of roundOrder(round)) {
        const label = `${SHADOW_VARIANT_LABELS[variant]} round ${round}`;
        const startLoad = loadAverage();
        const run = await openLoopAgainst(
          context,
          'service',
          latencyRate,
          'unique',
          timing,
          label,
          setups[variant],
        );
        latencyRuns.push({ variant, round, loadAverage: startLoad, run });
      }
    }

    heading(`shadow: where the CPU goes at ${latencyRate}/s, one profiled run of each`);
    const profiles: ShadowProfile[] = [];
    for (const variant of roundOrder(1)) {
      profiles.push(await profiledRun(context, variant, latencyRate, setups[variant]));
    }

    return {
      model: options.model,
      repository: {
        champion: repository.champion,
        shadow: repository.shadow,
        challenger: repository.challenger,
      },
      // The service's default, the same for both variants; the benchmark target never changes it.
      cacheEnabled: true,
      rounds,
      latencyFraction: SHADOW_LATENCY_FRACTION,
      drains,
      searches,
      latencyRuns,
      profiles,
      outputBytes,
      summary: summarizeShadow({ drains, searches, latencyRuns, profiles, outputBytes }),
    };
  } finally {
    await repository.remove();
  }
}

async function alternatingDrains(
  context: BenchContext,
  rounds: number,
  setups: Record<ShadowVariant, TargetSetup>,
): Promise<{ drains: ShadowDrain[]; outputBytes: OutputBytes | null }> {
  const { kafka, options } = context;
  const backlogTopic = uniqueName('shadow-backlog');
  const drains: ShadowDrain[] = [];
  let outputBytes: OutputBytes | null = null;
  await createTopics(kafka, [backlogTopic, `${backlogTopic}.DLT`], options.partitions);
  try {
    await publishBacklog(kafka, backlogTopic, createEventSource('unique'), options.drainBacklog);
    for (let round = 1; round <= rounds; round++) {
      for (const variant of roundOrder(round)) {
        // Counting what was published reads it all back: once is enough, and never inside a measurement.
        const countBytes = variant === 'shadow' && outputBytes === null;
        const startLoad = loadAverage();
        const drain = await drainCapacity(context, 'service', backlogTopic, options.drainBacklog, 'unique', {
          ...setups[variant],
          ...(countBytes
            ? {
                inspectOutput: async ({ predictions, comparisons }) => {
                  outputBytes = {
                    predictions: await topicPayloadBytes(kafka, predictions),
                    comparisons: await topicPayloadBytes(kafka, comparisons!),
                  };
                },
              }
            : {}),
        });
        drains.push({ variant, round, loadAverage: startLoad, drain });
        process.stderr.write(`  ${SHADOW_VARIANT_LABELS[variant]}, round ${round}: ${drainOutcome(drain)}\n`);
      }
    }
  } finally {
    await deleteTopics(kafka, [backlogTopic, `${backlogTopic}.DLT`]);
  }
  return { drains, outputBytes };
}

/**
 * One bisection per variant over the same range, taking their steps in turn (alternating which goes
 * first), so both searches see the same stretch of the machine's weather.
 */
async function interleavedSearches(
  context: BenchContext,
  drainRate: number,
  setups: Record<ShadowVariant, TargetSetup>,
): Promise<ShadowSearch[]> {
  const { searchSteps } = context.options;
  const searches = (['alone', 'shadow'] as const).map((variant) => ({
    variant,
    bisection: createBisection('service', drainRate),
    steps: [] as ShadowSearchStep[],
  }));
  for (let step = 0; step < searchSteps; step++) {
    for (const variant of roundOrder(step + 1)) {
      const search = searches.find((entry) => entry.variant === variant)!;
      const label = `search ${SHADOW_VARIANT_LABELS[variant]} ${step + 1}/${searchSteps}`;
      const startLoad = loadAverage();
      const probe = await probeRate(context, 'service', search.bisection.nextRate(), label, setups[variant]);
      search.bisection.record(probe.step);
      search.steps.push({
        ...probe.step,
        shadowRows: probe.stats.shadowRows,
        loadAverage: startLoad,
        ...(probe.stats.uncleanStop ? { uncleanStop: probe.stats.uncleanStop } : {}),
      });
    }
  }
  return searches.map(({ variant, bisection, steps }) => ({ ...bisection.result(), variant, steps }));
}

/** An open-loop run like the latency runs, its target's main thread profiled over the measured window. */
async function profiledRun(
  context: BenchContext,
  variant: ShadowVariant,
  rate: number,
  setup: TargetSetup,
): Promise<ShadowProfile> {
  const { options } = context;
  const directory = packagePath('.cache/profiles');
  await mkdir(directory, { recursive: true });
  const path = join(
    directory,
    `shadow-${variant}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`,
  );
  // A search step's window: long enough for a profile of thousands of samples, and the run stays short.
  const { stats } = await openLoopAgainst(
    context,
    'service',
    rate,
    'unique',
    {
      warmupSeconds: options.searchWarmupSeconds,
      measureSeconds: options.searchMeasureSeconds,
      graceSeconds: 10,
    },
    `profile ${SHADOW_VARIANT_LABELS[variant]}`,
    { ...setup, profilePath: path },
  );
  const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
  const records = Math.max(1, stats.outputs);
  const busy = (entries: [string, number][]) => entries.filter(([key]) => key !== IDLE);
  const parts = busy(selfTimes(profile, partOf));
  const sampledMicros = parts.reduce((sum, [, micros]) => sum + micros, 0);
  const measured = stats.mainThreadCpuMicrosPerOutput;
  const mainThreadMicrosPerRecord = measured ?? sampledMicros / records;
  // Samples say how the main thread's time divides; its own CPU accounting says how much time there was.
  const perRecord = (entries: [string, number][]) =>
    Object.fromEntries(
      entries.map(([key, micros]) => [
        key,
        (micros / Math.max(1, sampledMicros)) * mainThreadMicrosPerRecord,
      ]),
    );
  return {
    variant,
    path,
    records: stats.outputs,
    processCpuMicrosPerRecord: stats.cpuMicrosPerOutput,
    mainThreadMicrosPerRecord,
    mainThreadMeasured: measured !== undefined,
    parts: perRecord(parts),
    functions: perRecord(busy(selfTimes(profile, functionOf)).slice(0, PROFILE_TOP_FUNCTIONS)),
    shadowRows: stats.shadowRows,
    ...(stats.uncleanStop ? { uncleanStop: stats.uncleanStop } : {}),
  };
}
