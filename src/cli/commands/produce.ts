import { type Command, InvalidArgumentError } from 'commander';
import { connectPublisher } from '../../kafka/index.js';
import {
  type DriftRule,
  parseDriftRule,
  sampleTransactions,
  seededRandom,
  withDrift,
} from '../../sample/index.js';
import { eventEncoder } from '../clients.js';
import { createRuntime, type GlobalOptions } from '../runtime.js';
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
    .action(async (flags: ProduceFlags, command: Command) => {
      const runtime = createRuntime(command.optsWithGlobals<GlobalOptions>());
      const publisher = await connectPublisher(runtime.config.kafka, runtime.logger, 'producer');
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
        },
      );
      await publisher.disconnect();
      const seconds = (performance.now() - started) / 1000;
      runtime.logger.info(
        { events: sent, seconds: Number(seconds.toFixed(2)), topic: runtime.config.input.topic },
        `published ${sent} events (${Math.round(sent / seconds)}/s)`,
      );
    });
}
