/**
 * `npx tsx loadtests/scale.ts` (`npm run bench:scale`): scale-out by consumer group on the local broker,
 * about 10 minutes. 1, 2 and 3 service instances in one group on a 6-partition topic: a drain of a backlog
 * and an open-loop window per count, in alternating rounds (lib/scale-steady.ts); instances added,
 * stopped and killed under load in both delivery modes, with the delivery audit; a rolling restart of 3
 * instances (lib/scale-membership.ts). Writes loadtests/results/scale.json and regenerates BENCHMARKS.md.
 *
 * Flags beside lib/options.ts's (`--rate`, `--drain-backlog`, `--warmup-seconds`, `--tick-ms`, `--model`):
 * `--rounds`, `--window-seconds` (each open-loop window). `--quick` is a check, about 4 minutes, not
 * figures: one round, short windows, a 10 s session timeout for the membership changes, one replacement.
 */
import { loadavg } from 'node:os';
import { ensureBroker, harnessKafka } from './lib/broker.js';
import { type BenchOptions, parseBenchOptions } from './lib/options.js';
import { writeResult } from './lib/results.js';
import { loadAverage } from './lib/rounds.js';
import type { ScaleDrain } from './lib/scale-drain.js';
import { DELIVERY_MODES, type InstanceSettings, killStartedInstances } from './lib/scale-instances.js';
import { type MembershipRun, membershipChanges, rollingRestart } from './lib/scale-membership.js';
import { scaleMarkdown } from './lib/scale-report.js';
import { countsInRound, type SteadyBlock, steadyBlock } from './lib/scale-steady.js';
import { type ScaleResult, summarizeScale } from './lib/scale-summary.js';
import { SCALE_PARTITIONS } from './lib/scale-topics.js';
import type { BenchContext } from './lib/scenarios.js';
import { generateReport } from './report.js';

interface ScaleOptions {
  rounds: number;
  windowSeconds: number;
}

/** The share of one instance's drain rate the open-loop parts offer when --rate is not given. */
const RATE_SHARE_OF_DRAIN = 0.4;
const RATE_STEP = 500;
/** The quick run's session timeout: the default 30 s would make the SIGKILL step most of a check's time. */
const QUICK_SESSION_TIMEOUT_MS = 10_000;
const DRAIN_LIMIT_SECONDS = 60;

const heading = (text: string) => process.stderr.write(`\n== ${text}\n`);

/** Takes this benchmark's own flags out of argv; the rest are lib/options.ts's. */
function parseScaleOptions(argv: string[]): { scale: ScaleOptions; options: BenchOptions } {
  const own: Partial<Record<keyof ScaleOptions, number>> = {};
  const flags: Record<string, keyof ScaleOptions> = {
    '--rounds': 'rounds',
    '--window-seconds': 'windowSeconds',
  };
  const rest: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const name = flags[argv[index]!];
    if (!name) {
      rest.push(argv[index]!);
      continue;
    }
    const value = Number(argv[++index]);
    if (!(value > 0)) throw new Error(`${argv[index - 1]} needs a number > 0, got ${argv[index]}`);
    own[name] = value;
  }
  const options = parseBenchOptions(rest);
  return {
    options,
    scale: {
      rounds: own.rounds ?? (options.quick ? 1 : 3),
      windowSeconds: own.windowSeconds ?? (options.quick ? 6 : 12),
    },
  };
}

async function steadyPhase(
  context: BenchContext,
  scale: ScaleOptions,
): Promise<{ drains: ScaleDrain[]; blocks: SteadyBlock[]; rate: number; rateSource: string }> {
  const { options } = context;
  let rate = options.rate;
  let rateSource = 'set with --rate';
  const rateFor = (drain: ScaleDrain) => {
    if (rate === 0) {
      // Round 1 starts with one instance, so its drain sets the rate of every open-loop part of the run.
      rate = Math.max(RATE_STEP, Math.round((drain.rate * RATE_SHARE_OF_DRAIN) / RATE_STEP) * RATE_STEP);
      rateSource = `${RATE_SHARE_OF_DRAIN * 100}% of one instance's first drain rate`;
    }
    return rate;
  };
  const timing = {
    backlog: options.drainBacklog,
    drainLimitSeconds: DRAIN_LIMIT_SECONDS,
    warmupSeconds: options.warmupSeconds,
    measureSeconds: scale.windowSeconds,
    tickMs: options.tickMs,
  };
  const blocks: SteadyBlock[] = [];
  for (let round = 1; round <= scale.rounds; round++) {
    for (const count of countsInRound(round)) {
      heading(`scale: ${count} instance(s), round ${round} of ${scale.rounds}`);
      blocks.push(await steadyBlock(context, count, round, timing, rateFor));
    }
  }
  return { drains: blocks.map((block) => block.drain), blocks, rate, rateSource };
}

async function main(): Promise<void> {
  const { options, scale } = parseScaleOptions(process.argv.slice(2));
  const stopBroker = await ensureBroker(options.brokers);
  const context: BenchContext = { options, kafka: harnessKafka(options.brokers) };
  const startLoad = loadavg();
  const startedAt = performance.now();
  try {
    const steady = await steadyPhase(context, scale);
    const settings: InstanceSettings = options.quick ? { sessionTimeoutMs: QUICK_SESSION_TIMEOUT_MS } : {};
    const membership: MembershipRun[] = [];
    for (const mode of DELIVERY_MODES) {
      heading(`scale: membership changes at ${steady.rate}/s, ${mode}`);
      membership.push(await membershipChanges(context, mode, steady.rate, settings));
    }
    const replacements = options.quick ? 1 : 3;
    heading(`scale: rolling restart of 3 instances at ${steady.rate}/s, ${replacements} replacement(s)`);
    const rolling = await rollingRestart(context, steady.rate, replacements);
    const result: ScaleResult = {
      model: options.model,
      partitions: SCALE_PARTITIONS,
      rounds: scale.rounds,
      rate: steady.rate,
      rateSource: steady.rateSource,
      loadAverage: { start: Math.round(startLoad[0]! * 100) / 100, end: loadAverage() },
      drains: steady.drains,
      openLoops: steady.blocks.map((block) => block.openLoop),
      membership,
      rolling,
    };
    writeResult('scale', {
      quick: options.quick,
      options: { ...options, ...scale },
      machine: {
        note: 'a 2-core machine shared with other work during the run: compare within the run',
        loadAverageAtStart: startLoad,
        loadAverageAtEnd: loadavg(),
      },
      seconds: Math.round((performance.now() - startedAt) / 1000),
      ...result,
      summary: summarizeScale(result),
    });
    process.stderr.write(`\n${scaleMarkdown(result).join('\n')}\n`);
  } finally {
    await killStartedInstances();
    stopBroker();
  }
  process.stderr.write(`wrote ${generateReport().join(', ')}\n`);
}

await main();
