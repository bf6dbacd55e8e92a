import { type Command, InvalidArgumentError } from 'commander';
import { connectPublisher, type Publisher } from '../../kafka/index.js';
import { LABEL_SCHEMA_PATH } from '../../monitoring/index.js';
import {
  type CardTransaction,
  type DriftRule,
  parseDriftRule,
  type SampleLabel,
  sampleLabel,
  sampleTransactions,
  seededRandom,
  withDrift,
} from '../../sample/index.js';
import { eventEncoder, producerEncoder } from '../clients.js';
import { createRuntime, type GlobalOptions, type Runtime } from '../runtime.js';
import { produceEvents } from '../sample-stream.js';

export function positiveNumber(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new InvalidArgumentError('expected a positive number');
  return value;
}

interface ProduceFlags {
  count?: number;
  rate?: number;
  seed: number;
  drift: DriftRule[];
  labelsTopic?: string;
  labelShare: number;
}

function share(text: string): number {
  const value = Number(text);
  if (!(value > 0 && value <= 1)) throw new InvalidArgumentError('expected a share above 0, at most 1');
  return value;
}

/**
 * Publishes the ground truth of a share of each chunk's events to the labels topic, keyed by event id,
 * once the chunk's events are published. Its own random stream, so the events are the same with or without.
 */
async function labelPublisher(
  runtime: Runtime,
  publisher: Publisher,
  flags: ProduceFlags & { labelsTopic: string },
): Promise<{ onSent(events: readonly CardTransaction[]): Promise<void>; readonly published: number }> {
  const encoder = await producerEncoder<SampleLabel>(runtime, flags.labelsTopic, LABEL_SCHEMA_PATH);
  const random = seededRandom(flags.seed + 2);
  let published = 0;
  return {
    async onSent(events) {
      const records = events
        .filter(() => random.chance(flags.labelShare))
        .map((event) => ({ key: event.event_id, value: encoder.encode(sampleLabel(event, random)) }));
      await publisher.publish(flags.labelsTopic, records);
      published += records.length;
    },
    get published() {
      return published;
    },
  };
}

function collectDriftRule(rule: string, rules: DriftRule[]): DriftRule[] {
  try {
    return [...rules, parseDriftRule(rule)];
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

export function registerProduce(program: Command): void {
  program
    .command('produce')
    .description('Publish synthetic card transactions to the input topic, keyed by account.')
    .option('-n, --count <events>', 'stop after this many events (default: until Ctrl-C)', positiveNumber)
    .option(
      '-r, --rate <per-second>',
      'events per second (default: as fast as the broker takes them)',
      positiveNumber,
    )
    .option('--seed <n>', 'seed of the sample stream', positiveNumber, 7)
    .option(
      '--drift <rule>',
      'bend the stream, repeatable: units:amount_minor=100 (a number times a factor), ' +
        'set:channel=MOTO@0.3 (a value in a share of events), nulls:device_id@0.5 (null in a share of events)',
      collectDriftRule,
      [],
    )
    .option(
      '--labels-topic <topic>',
      "also publish each event's ground truth (schemas/label.avsc, keyed by event id), drawn from the process " +
        'the sample models were trained on, to this topic',
    )
    .option('--label-share <share>', 'share of the events labelled, above 0, at most 1', share, 1)
    .action(async (flags: ProduceFlags, command: Command) => {
      const runtime = createRuntime(command.optsWithGlobals<GlobalOptions>());
      const publisher = await connectPublisher(runtime.config.kafka, runtime.logger, 'producer');
      const { labelsTopic } = flags;
      const labels = labelsTopic
        ? await labelPublisher(runtime, publisher, { ...flags, labelsTopic })
        : undefined;
      const abort = new AbortController();
      process.once('SIGINT', () => abort.abort());
      process.once('SIGTERM', () => abort.abort());
      const started = performance.now();
      const sent = await produceEvents(
        publisher,
        await eventEncoder(runtime),
        withDrift(sampleTransactions({ seed: flags.seed }), flags.drift, seededRandom(flags.seed + 1)),
        {
          topic: runtime.config.input.topic,
          count: flags.count,
          rate: flags.rate,
          signal: abort.signal,
          ...(labels ? { onSent: labels.onSent } : {}),
        },
      );
      await publisher.disconnect();
      const seconds = (performance.now() - started) / 1000;
      runtime.logger.info(
        { events: sent, seconds: Number(seconds.toFixed(2)), topic: runtime.config.input.topic },
        `published ${sent} events (${Math.round(sent / seconds)}/s)`,
      );
      if (labels) {
        runtime.logger.info(
          { labels: labels.published, topic: labelsTopic },
          `published ${labels.published} labels to ${labelsTopic}`,
        );
      }
    });
}
