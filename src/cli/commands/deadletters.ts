/**
 * `streamscore deadletters`: what the dead-letter topic holds, and publishing its records again once what
 * set them aside is fixed (a model that failed on them, a schema registered late, a producer's bug).
 */
import { type Command, InvalidArgumentError } from 'commander';
import { ErrorCodes } from '../../errors/index.js';
import {
  connectPublisher,
  type OutputRecord,
  type Publisher,
  readTopicRange,
  requireTopics,
} from '../../kafka/index.js';
import { fromDeadLetter } from '../../routing/index.js';
import { createDeadLetterTally, type DeadLettersReport } from '../dead-letter-tally.js';
import { createReportRuntime, type GlobalOptions, type Runtime } from '../runtime.js';
import { resolveTimeRange, type TimeRange, type TimeRangeFlags, timeRangeOptions } from '../time-range.js';

/** The codes a record is dead-lettered with: the ones whose disposition is a bad record. */
const DEAD_LETTER_CODES = Object.entries(ErrorCodes)
  .filter(([, disposition]) => disposition === 'bad-record')
  .map(([code]) => code);

export interface ReplayResult extends DeadLettersReport {
  dryRun: boolean;
  /** Dead letters published again (or, in a dry run, that would be), by the topic they went to. */
  replayed: { topic: string; count: number }[];
  /** Dead letters in the range whose code --code left out. */
  skipped: number;
}

interface RangeFlags extends TimeRangeFlags {
  topic?: string;
  json: boolean;
}

interface ReplayFlags extends RangeFlags {
  code?: string[];
  into?: string;
  dryRun: boolean;
}

async function report(runtime: Runtime, topic: string, range: TimeRange): Promise<DeadLettersReport> {
  const tally = createDeadLetterTally();
  await readTopicRange(runtime.config.kafka, runtime.logger, { topic, ...range, onRecord: tally.add });
  return tally.report(topic, range);
}

/**
 * Publishes each dead letter of the range again, batch by batch as they are read, to its original topic
 * (or `into`), and waits for the brokers' acknowledgement before reading on.
 */
async function replay(
  runtime: Runtime,
  topic: string,
  range: TimeRange,
  flags: ReplayFlags,
): Promise<ReplayResult> {
  const { config, logger } = runtime;
  const codes = flags.code && new Set(flags.code);
  const tally = createDeadLetterTally();
  const pending = new Map<string, OutputRecord[]>();
  const replayed = new Map<string, number>();
  const checked = new Set<string>();
  let skipped = 0;
  if (flags.into) {
    await requireTopics(config.kafka, logger, [flags.into]);
    checked.add(flags.into);
  }
  const publisher: Publisher | undefined = flags.dryRun
    ? undefined
    : await connectPublisher(config.kafka, logger, 'dead-letter-replay');
  try {
    await readTopicRange(config.kafka, logger, {
      topic,
      ...range,
      onRecord(record, from) {
        const origin = tally.add(record);
        if (!origin) return;
        if (codes && !codes.has(origin.code)) {
          skipped += 1;
          return;
        }
        const destination = flags.into ?? origin.topic;
        const records = pending.get(destination) ?? [];
        records.push(fromDeadLetter(record, { topic, partition: from }));
        pending.set(destination, records);
      },
      async onBatchRead() {
        // Every destination of the batch is checked before any of it is published: a missing one stops the
        // replay at a batch boundary.
        const unchecked = [...pending.keys()].filter((destination) => !checked.has(destination));
        if (unchecked.length > 0) {
          await requireTopics(config.kafka, logger, unchecked);
          for (const destination of unchecked) checked.add(destination);
        }
        for (const [destination, records] of pending) {
          await publisher?.publish(destination, records);
          replayed.set(destination, (replayed.get(destination) ?? 0) + records.length);
        }
        pending.clear();
      },
    });
  } finally {
    await publisher?.disconnect();
  }
  return {
    ...tally.report(topic, range),
    dryRun: flags.dryRun,
    replayed: [...replayed].map(([destination, count]) => ({ topic: destination, count })),
    skipped,
  };
}

function printReport(result: DeadLettersReport): void {
  const range = `${result.from ?? 'the beginning'} to ${result.to ?? 'now'}`;
  const other = result.notDeadLetters ? `, ${result.notDeadLetters} records without dead-letter headers` : '';
  const lines = [`${result.topic} from ${range}: ${result.records} dead letters${other}`];
  for (const { code, count, first, last, lastMessage } of result.codes) {
    lines.push(`  ${code}: ${count}, ${first} to ${last}${lastMessage ? `; last: ${lastMessage}` : ''}`);
  }
  if (result.origins.length > 0) {
    lines.push(
      `  from: ${result.origins.map(({ topic, partition, count }) => `${topic}/${partition} ${count}`).join(', ')}`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

function printReplay(result: ReplayResult): void {
  printReport(result);
  const verb = result.dryRun ? 'would publish' : 'published';
  const to = result.replayed.map(({ topic, count }) => `${count} to ${topic}`).join(', ') || 'nothing';
  const skipped = result.skipped ? `; ${result.skipped} left out by --code` : '';
  process.stdout.write(`${verb} ${to}${skipped}\n`);
}

const parseCodes = (text: string, previous: string[] = []) => {
  const codes = text.split(',').map((code) => code.trim().toUpperCase());
  const unknown = codes.filter((code) => !DEAD_LETTER_CODES.includes(code));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(
      `not a dead-letter code: ${unknown.join(', ')} (one of ${DEAD_LETTER_CODES.join(', ')})`,
    );
  }
  return [...previous, ...codes];
};

export function registerDeadLetters(program: Command): void {
  const deadLetters = program
    .command('deadletters')
    .description('Look at the dead-letter topic, and publish its records again once their cause is fixed.');
  const topicOption = '--topic <topic>';
  const topicHelp = 'dead-letter topic (default: deadLetter.topic)';
  const output = (flags: RangeFlags, result: DeadLettersReport, print: () => void) =>
    flags.json ? process.stdout.write(`${JSON.stringify(result, null, 2)}\n`) : print();

  timeRangeOptions(
    deadLetters
      .command('report')
      .description('Count the dead letters of a time range by reason code and by partition of origin.')
      .option(topicOption, topicHelp),
  )
    .option('--json', 'print the report as one JSON object', false)
    .action(async (flags: RangeFlags, command: Command) => {
      const runtime = createReportRuntime(command.optsWithGlobals<GlobalOptions>());
      const topic = flags.topic ?? runtime.config.deadLetter.topic;
      const result = await report(runtime, topic, resolveTimeRange(flags, command));
      output(flags, result, () => printReport(result));
    });

  timeRangeOptions(
    deadLetters
      .command('replay')
      .description(
        'Publish the dead letters of a time range again to the topic each came from, with its original key, ' +
          'value and headers and a streamscore-replayed-from header; the dead-letter topic keeps them.',
      )
      .option(topicOption, topicHelp),
  )
    .option('--code <codes>', 'only these reason codes, comma-separated or repeated', parseCodes)
    .option('--into <topic>', 'publish to this topic instead of the one each record came from')
    .option('--dry-run', 'count what would be published, publish nothing', false)
    .option('--json', 'print the result as one JSON object', false)
    .action(async (flags: ReplayFlags, command: Command) => {
      const runtime = createReportRuntime(command.optsWithGlobals<GlobalOptions>());
      const topic = flags.topic ?? runtime.config.deadLetter.topic;
      const result = await replay(runtime, topic, resolveTimeRange(flags, command), flags);
      output(flags, result, () => printReplay(result));
    });
}
