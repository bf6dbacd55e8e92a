import { type Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../../config/index.js';
import { isBadRecord } from '../../errors/index.js';
import { createExperimentFigures, type ExperimentsSummary, formatSummary } from '../../experiments/index.js';
import { readTopicRange } from '../../kafka/index.js';
import { loadComparisonCodec } from '../../routing/index.js';
import { createLogger } from '../../telemetry/index.js';
import type { GlobalOptions } from '../runtime.js';

/** A time given on the command line: an instant, or a duration before the moment the command runs. */
type TimeArgument = { at: number } | { ago: number };

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const AGO = /^(\d+(?:\.\d+)?)([smhd])$/;
// ISO 8601 only: Date.parse alone would also take whatever the JavaScript engine guesses at.
const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export function parseTimeArgument(text: string): TimeArgument {
  const ago = AGO.exec(text);
  if (ago) return { ago: Number(ago[1]) * UNIT_MS[ago[2]!]! };
  const at = ISO.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isFinite(at)) return { at };
  throw new InvalidArgumentError(
    'expected an ISO 8601 time (2026-05-01T10:00:00Z) or a time ago (30s, 15m, 2h, 7d)',
  );
}

const resolve = (time: TimeArgument | undefined, nowMs: number) =>
  time === undefined ? undefined : 'at' in time ? time.at : nowMs - time.ago;
const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

interface ReportFlags {
  topic?: string;
  from?: TimeArgument;
  to?: TimeArgument;
  json: boolean;
}

interface ReportRange {
  topic: string | undefined;
  fromMs: number | undefined;
  toMs: number | undefined;
  nowMs: number;
}

export interface ExperimentsReport extends ExperimentsSummary {
  topic: string;
  /** ISO times of the range; null where it is open. */
  from: string | null;
  to: string | null;
  /** Comparison records read in the range. */
  records: number;
  /** Records in the range that are not comparisons (not counted in any figure). */
  undecodable: number;
}

async function report(range: ReportRange, global: GlobalOptions): Promise<ExperimentsReport> {
  const config = loadConfig({ file: global.config });
  // stdout carries the report; the logs go to stderr. kafkajs's info lines (connecting, joining, stopping)
  // are noise beside a report, so the default level shows warnings and worse; debug and trace still apply.
  const level = config.log.level === 'info' ? 'warn' : config.log.level;
  const logger = createLogger({ ...config.log, level }, process.stderr);
  const topic = range.topic ?? config.experiments.comparisonTopic;
  const { fromMs, toMs, nowMs } = range;

  const codec = loadComparisonCodec();
  const figures = createExperimentFigures({ windowMs: config.experiments.windowMs });
  let newestMs: number | undefined;
  let undecodable = 0;
  const records = await readTopicRange(config.kafka, logger, {
    topic,
    fromMs,
    toMs,
    onRecord: (record) => {
      try {
        const comparison = codec.decode(record.value);
        figures.addComparison(comparison);
        newestMs = Math.max(newestMs ?? comparison.compared_time, comparison.compared_time);
      } catch (error) {
        if (!isBadRecord(error)) throw error;
        undecodable += 1;
      }
    },
  });
  // The window ends where the range does, or at the newest comparison when the range is open.
  const summary = figures.summary(toMs ?? newestMs ?? nowMs);
  return { topic, from: iso(fromMs), to: iso(toMs), records: records - undecodable, undecodable, ...summary };
}

function printHuman(result: ExperimentsReport): void {
  const range = `${result.from ?? 'the beginning'} to ${result.to ?? 'now'}`;
  const skipped = result.undecodable ? `, ${result.undecodable} undecodable records skipped` : '';
  process.stdout.write(
    `${result.topic} from ${range}: ${result.records} comparisons${skipped}; window ends ${iso(result.at)}\n\n`,
  );
  process.stdout.write(formatSummary(result, 'range'));
}

export function registerExperiments(program: Command): void {
  const experiments = program
    .command('experiments')
    .description('Look at shadow experiments: champion and challengers compared on the same events.');
  experiments
    .command('report')
    .description(
      'Read the comparison topic for a time range and print agreement, flips, score differences, challenger ' +
        'statuses and latency, and PSI per champion/challenger pair. Needs no running service.',
    )
    .option('--topic <topic>', 'comparison topic (default: experiments.comparisonTopic)')
    .option(
      '--from <time>',
      'start, ISO 8601 or a time ago such as 15m or 2h (default: the beginning)',
      parseTimeArgument,
    )
    .option('--to <time>', 'end, exclusive, in the same forms (default: now)', parseTimeArgument)
    .option('--json', 'print the report as one JSON object', false)
    .action(async (flags: ReportFlags, command: Command) => {
      // One instant for both ends, so `--from 2h --to 1h` is exactly an hour.
      const nowMs = Date.now();
      const fromMs = resolve(flags.from, nowMs);
      const toMs = resolve(flags.to, nowMs);
      if (fromMs !== undefined && toMs !== undefined && fromMs >= toMs) {
        command.error(`error: --from (${iso(fromMs)}) must be before --to (${iso(toMs)})`);
      }
      const range = { topic: flags.topic, fromMs, toMs, nowMs };
      const result = await report(range, command.optsWithGlobals<GlobalOptions>());
      if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else printHuman(result);
    });
}
