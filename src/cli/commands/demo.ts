import type { Command } from 'commander';
import { connectPublisher, type Follower, type Publisher } from '../../kafka/index.js';
import type { Prediction } from '../../routing/index.js';
import { type CardTransaction, sampleTransactions } from '../../sample/index.js';
import type { RunningService } from '../../service/index.js';
import { eventEncoder, predictionDecoder } from '../clients.js';
import { createRuntime, type GlobalOptions, onShutdownSignal, startUnlessStopped } from '../runtime.js';
import { produceEvents, tailPredictions } from '../sample-stream.js';
import { positiveNumber } from './produce.js';
import { createServiceTopics } from './topics.js';

interface DemoFlags {
  rate: number;
}

// Events are remembered only until their prediction arrives, so the demo can print what was scored.
const MAX_REMEMBERED_EVENTS = 10_000;

function describe(prediction: Prediction, event: CardTransaction | undefined, colour: boolean): string {
  const flagged = prediction.label === 'fraud';
  const verdict = `${flagged ? 'FRAUD' : 'ok   '} ${prediction.score.toFixed(3)}`;
  const shown = colour ? (flagged ? `\x1b[1;31m${verdict}\x1b[0m` : `\x1b[32m${verdict}\x1b[0m`) : verdict;
  const what = event
    ? [
        `${(event.amount_minor / 100).toFixed(2).padStart(9)} ${event.currency}`,
        event.channel.padEnd(9),
        `card ${event.card_country} in ${event.country}`,
        `mcc ${event.merchant_category}`,
        event.device_id === null ? 'no device' : 'device   ',
      ].join('  ')
    : prediction.event_id;
  return `${shown}  ${what}  ${prediction.model_name}@${prediction.model_version} ${prediction.latency_ms.toFixed(1)} ms`;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Create the topics, run the service, feed it sample events and print the predictions.')
    .option('-r, --rate <per-second>', 'sample events per second', positiveNumber, 5)
    .action(async (flags: DemoFlags, command: Command) => {
      const runtime = createRuntime(command.optsWithGlobals<GlobalOptions>(), {
        log: { pretty: true, level: 'warn' },
      });
      const stopping = new AbortController();
      const remembered = new Map<string, CardTransaction>();
      const colour = process.stdout.isTTY === true;
      let publisher: Publisher | undefined;
      let tail: Follower | undefined;
      let starting: Promise<RunningService | undefined> = Promise.resolve(undefined);

      onShutdownSignal(runtime.logger, async () => {
        stopping.abort();
        await tail?.disconnect();
        await publisher?.disconnect();
        const service = await starting;
        await service?.stop();
        const { recordsIn, predictionsOut, rejected } = service?.counters ?? {
          recordsIn: 0,
          predictionsOut: 0,
          rejected: 0,
        };
        process.stdout.write(
          `\nscored ${predictionsOut} of ${recordsIn} events (${rejected} rejected); stopped cleanly\n`,
        );
      });

      await createServiceTopics(runtime, { partitions: 3, replicationFactor: 1 });
      starting = startUnlessStopped(runtime, stopping.signal);
      if (!(await starting)) return;
      publisher = await connectPublisher(runtime.config.kafka, runtime.logger, 'demo-producer');
      process.stdout.write(
        `streamscore demo: ${flags.rate} events/s into '${runtime.config.input.topic}', predictions from '${runtime.config.output.topic}'. Ctrl-C stops.\n\n`,
      );
      tail = await tailPredictions(runtime, predictionDecoder(runtime), {
        topic: runtime.config.output.topic,
        fromBeginning: false,
        onPrediction: (prediction) => {
          const event = remembered.get(prediction.event_id);
          remembered.delete(prediction.event_id);
          process.stdout.write(`${describe(prediction, event, colour)}\n`);
        },
      });
      void produceEvents(
        publisher,
        await eventEncoder(runtime),
        sampleTransactions({ seed: Date.now() % 1_000_000, startTime: Date.now() }),
        {
          topic: runtime.config.input.topic,
          rate: flags.rate,
          signal: stopping.signal,
          onSent: (events) => {
            for (const event of events) remembered.set(event.event_id, event);
            while (remembered.size > MAX_REMEMBERED_EVENTS)
              remembered.delete(remembered.keys().next().value as string);
          },
        },
      ).catch((error: unknown) => {
        if (!stopping.signal.aborted) runtime.logger.error({ err: error }, 'sample producer failed');
      });
    });
}
