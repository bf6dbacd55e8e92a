import type { Command } from 'commander';
import type { Prediction } from '../../routing/index.js';
import { type CardTransaction, sampleTransactions } from '../../sample/index.js';
import { startService } from '../../service/index.js';
import { connectProducer, connectTailConsumer, eventCodec, predictionCodec } from '../clients.js';
import { createRuntime, type GlobalOptions, onShutdownSignal } from '../runtime.js';
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
      await createServiceTopics(runtime, { partitions: 3, replicationFactor: 1 });
      const service = await startService(runtime.config, runtime.logger, { onFatal: () => process.exit(1) });
      const producer = await connectProducer(runtime, 'demo-producer');
      const tail = await connectTailConsumer(runtime);
      const abort = new AbortController();
      const remembered = new Map<string, CardTransaction>();
      const colour = process.stdout.isTTY === true;

      onShutdownSignal(runtime.logger, async () => {
        abort.abort();
        await tail.disconnect();
        await producer.disconnect();
        await service.stop();
        const { recordsIn, predictionsOut, rejected } = service.counters;
        process.stdout.write(
          `\nscored ${predictionsOut} of ${recordsIn} events (${rejected} rejected); stopped cleanly\n`,
        );
      });

      process.stdout.write(
        `streamscore demo: ${flags.rate} events/s into '${runtime.config.input.topic}', predictions from '${runtime.config.output.topic}'. Ctrl-C stops.\n\n`,
      );
      await tailPredictions(tail, predictionCodec(runtime), {
        topic: runtime.config.output.topic,
        fromBeginning: false,
        onPrediction: (prediction) => {
          const event = remembered.get(prediction.event_id);
          remembered.delete(prediction.event_id);
          process.stdout.write(`${describe(prediction, event, colour)}\n`);
        },
      });
      void produceEvents(
        producer,
        eventCodec(runtime),
        sampleTransactions({ seed: Date.now() % 1_000_000, startTime: Date.now() }),
        {
          topic: runtime.config.input.topic,
          rate: flags.rate,
          signal: abort.signal,
          onSent: (events) => {
            for (const event of events) remembered.set(event.event_id, event);
            while (remembered.size > MAX_REMEMBERED_EVENTS)
              remembered.delete(remembered.keys().next().value as string);
          },
        },
      ).catch((error: unknown) => {
        if (!abort.signal.aborted) runtime.logger.error({ err: error }, 'sample producer failed');
      });
    });
}
