import type { Command } from 'commander';
import { isBadRecord } from '../../errors/index.js';
import { createExperimentFigures, type ExperimentsSummary, formatSummary } from '../../experiments/index.js';
import { readTopicRange } from '../../kafka/index.js';
import { loadComparisonCodec } from '../../routing/index.js';
import { createReportRuntime, type GlobalOptions } from '../runtime.js';
import {
  isoTime as iso,
  resolveTimeRange,
  type TimeRange,
  type TimeRangeFlags,
  timeRangeOptions,
} from '../time-range.js';
import { registerBacktest } from './backtest.js';

interface ReportFlags extends TimeRangeFlags {
  topic?: string;
  json: boolean;
}

interface ReportRange extends TimeRange {
  topic: string | undefined;
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
  const { config, logger } = createReportRuntime(global);
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
    .description(
      'Look at shadow experiments (champion and challengers compared on the same events), or backtest a ' +
        'candidate on recorded events before it runs as one.',
    );
  const reportCommand = experiments
    .command('report')
    .description(
      'Read the comparison topic for a time range and print agreement, flips, score differences, challenger ' +
        'statuses and latency, and PSI per champion/challenger pair. Needs no running service.',
    )
    .option('--topic <topic>', 'comparison topic (default: experiments.comparisonTopic)');
  timeRangeOptions(reportCommand)
    .option('--json', 'print the report as one JSON object', false)
    .action(async (flags: ReportFlags, command: Command) => {
      const range = { topic: flags.topic, ...resolveTimeRange(flags, command) };
      const result = await report(range, command.optsWithGlobals<GlobalOptions>());
      if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else printHuman(result);
    });
  registerBacktest(experiments);
}
