/**
 * Consumer loops against the bare pipe: one backlog drained, in rotating order within each round, by the
 * bare kafkajs pipe (one consumer loop republishing each batch unchanged), the full service with one loop
 * and with input.loops auto (targets/service-loops.ts, loops on threads behind the process's admin
 * server), each a fresh consumer group. The backlog topic has LOOPS_PARTITIONS partitions so that every loop count here gets
 * an even share, as a production topic with many more partitions than loops would.
 */
import { availableParallelism } from 'node:os';
import { loopCount } from '../../src/loops/index.js';
import { createTopics, deleteTopics, uniqueName } from './broker.js';
import { createEventSource } from './events.js';
import { type DrainCeiling, drainCeiling, measureRecordFloor, type RecordFloor } from './loops-ceiling.js';
import { drainMedians, drainOutcome, loadAverage, rotate } from './rounds.js';
import {
  type BenchContext,
  type DrainRun,
  drainCapacity,
  publishBacklog,
  type TargetSetup,
} from './scenarios.js';
import type { TargetKind } from './targets.js';

export type LoopVariant = 'bare-pipe' | 'published-pipe' | 'one-loop' | 'loops-auto' | 'loops-auto-workers';

export const LOOP_VARIANTS: readonly LoopVariant[] = [
  'bare-pipe',
  'published-pipe',
  'one-loop',
  'loops-auto',
  'loops-auto-workers',
];

export const VARIANT_LABELS: Record<LoopVariant, string> = {
  'bare-pipe': 'bare kafkajs pipe (one loop)',
  'published-pipe': 'bare pipe on kafkajs as published, unpatched (one loop)',
  'one-loop': 'full service, input.loops 1',
  'loops-auto': 'full service, input.loops auto',
  'loops-auto-workers': 'full service, input.loops auto, an inference worker per loop',
};

/**
 * Both service variants run as `streamscore serve` does, metrics on (the process's /metrics counts their
 * outputs): one loop with its inference worker (model.workers auto with one loop), and loops auto.
 */
const VARIANT_TARGETS: Record<LoopVariant, { kind: TargetKind; setup: TargetSetup }> = {
  'bare-pipe': { kind: 'bare-pipe', setup: {} },
  'published-pipe': { kind: 'published-pipe', setup: {} },
  'one-loop': { kind: 'service-loops', setup: { loops: 1, workers: 1 } },
  'loops-auto': { kind: 'service-loops', setup: { loops: 'auto' } },
  // What model.workers auto = 0 beside several loops is chosen against.
  'loops-auto-workers': { kind: 'service-loops', setup: { loops: 'auto', workers: 1 } },
};

/**
 * Every variant is measured from the moment its group is Stable with all its members: a process's loops
 * join one after another, and on a broker without an initial rebalance delay (this one) the first loop's
 * join completes alone; it is given nothing until the others' joins rebalance the group (src/kafka/
 * assigner.ts). That start is a property of the broker's setting, not of the loops' throughput; the
 * scale-out section measures joins and their cost.
 */
const MEASURE_FROM = 'settled-group';

/** Twice the usual backlog, so that the window after the group settles still lasts seconds. */
const BACKLOG_FACTOR = 2;

export const LOOPS_PARTITIONS = 6;

/** 3 rounds in full (a median), 1 with --quick. */
export const loopRounds = (quick: boolean) => (quick ? 1 : 3);

export interface LoopsDrain {
  variant: LoopVariant;
  round: number;
  /** The machine's 1-minute load average when the drain started. */
  loadAverage: number;
  drain: DrainRun;
}

export interface LoopsResult {
  quick: boolean;
  model: string;
  partitions: number;
  /** What input.loops auto resolved to on this machine, and the CPUs it has. */
  autoLoops: number;
  cpus: number;
  backlog: number;
  rounds: number;
  drains: LoopsDrain[];
  /** The per-record work no service avoids, timed after the drains; absent from results before it was. */
  floor?: RecordFloor;
}

export async function measureLoops(context: BenchContext, rounds: number): Promise<LoopsResult> {
  const { kafka } = context;
  const options = {
    ...context.options,
    partitions: LOOPS_PARTITIONS,
    drainBacklog: context.options.drainBacklog * BACKLOG_FACTOR,
  };
  const topic = uniqueName('loops-backlog');
  const drains: LoopsDrain[] = [];
  await createTopics(kafka, [topic, `${topic}.DLT`], LOOPS_PARTITIONS);
  try {
    await publishBacklog(kafka, topic, createEventSource('unique'), options.drainBacklog);
    for (let round = 1; round <= rounds; round++) {
      for (const variant of rotate(round, LOOP_VARIANTS)) {
        const load = loadAverage();
        const { kind, setup } = VARIANT_TARGETS[variant];
        const drain = await drainCapacity(
          { ...context, options },
          kind,
          topic,
          options.drainBacklog,
          'unique',
          { ...setup, measureFrom: MEASURE_FROM, countOutputsBy: 'end-offsets' },
        );
        process.stderr.write(`  round ${round}, ${VARIANT_LABELS[variant]}: ${drainOutcome(drain)}\n`);
        drains.push({ variant, round, loadAverage: load, drain });
      }
    }
  } finally {
    await deleteTopics(kafka, [topic, `${topic}.DLT`]);
  }
  process.stderr.write('  the per-record floor: decode, features, inference and encode on one thread\n');
  const floor = await measureRecordFloor(options.model, options.quick ? 0.5 : 2);
  return {
    quick: options.quick,
    model: options.model,
    partitions: LOOPS_PARTITIONS,
    autoLoops: loopCount('auto'),
    cpus: availableParallelism(),
    backlog: options.drainBacklog,
    rounds,
    drains,
    floor,
  };
}

export interface LoopsSummary {
  variants: Record<LoopVariant, ReturnType<typeof drainMedians>>;
  /** Median drain rates over the bare pipe's and over one loop's. */
  autoVsPipe: number | null;
  /** Over the pipe on kafkajs as published: null for results from before that variant was measured. */
  autoVsPublishedPipe: number | null;
  oneLoopVsPipe: number | null;
  autoVsOneLoop: number | null;
  /** CPU per record with loops auto over one loop's, medians. */
  autoCpuVsOneLoop: number | null;
  /** What any service could drain here, against the pipe (loops-ceiling.ts); null without a floor. */
  ceiling: DrainCeiling | null;
  goals: { drainVsPipe: boolean; cores: boolean; cpuPerRecord: boolean };
}

const over = (numerator: number | null, denominator: number | null) =>
  numerator === null || denominator === null || denominator === 0 ? null : numerator / denominator;

export function summarizeLoops(result: LoopsResult): LoopsSummary {
  const medians = (variant: LoopVariant) =>
    drainMedians(
      result.drains.filter((entry) => entry.variant === variant && entry.drain.completed).map((e) => e.drain),
    );
  const variants = {
    'bare-pipe': medians('bare-pipe'),
    'published-pipe': medians('published-pipe'),
    'one-loop': medians('one-loop'),
    'loops-auto': medians('loops-auto'),
    'loops-auto-workers': medians('loops-auto-workers'),
  };
  const rateOf = (variant: LoopVariant) => variants[variant].medianDrainRate;
  const cpuOf = (variant: LoopVariant) => variants[variant].medianCpuMicrosPerRecord;
  const autoVsPipe = over(rateOf('loops-auto'), rateOf('bare-pipe'));
  const autoCpuVsOneLoop = over(cpuOf('loops-auto'), cpuOf('one-loop'));
  const pipeRate = rateOf('bare-pipe');
  const pipeCpu = cpuOf('bare-pipe');
  const autoCores = variants['loops-auto'].medianCoresUsed;
  const ceiling =
    result.floor && pipeRate !== null && pipeCpu !== null && autoCores !== null
      ? drainCeiling({ rate: pipeRate, cpuMicrosPerRecord: pipeCpu }, result.floor, result.cpus, autoCores)
      : null;
  return {
    variants,
    autoVsPipe,
    autoVsPublishedPipe: over(rateOf('loops-auto'), rateOf('published-pipe')),
    oneLoopVsPipe: over(rateOf('one-loop'), rateOf('bare-pipe')),
    autoVsOneLoop: over(rateOf('loops-auto'), rateOf('one-loop')),
    autoCpuVsOneLoop,
    ceiling,
    goals: {
      drainVsPipe: autoVsPipe !== null && autoVsPipe >= 1,
      cores: (variants['loops-auto'].medianCoresUsed ?? 0) >= 1.6,
      cpuPerRecord: autoCpuVsOneLoop !== null && autoCpuVsOneLoop <= 1,
    },
  };
}
