import type { Command } from 'commander';
import type { Follower } from '../../kafka/index.js';
import { predictionDecoder } from '../clients.js';
import { createRuntime, type GlobalOptions, onShutdownSignal } from '../runtime.js';
import { formatPrediction, tailPredictions } from '../sample-stream.js';
import { positiveNumber } from './produce.js';

interface TailFlags {
  fromBeginning: boolean;
  json: boolean;
  limit?: number;
}

export function registerTail(program: Command): void {
  program
    .command('tail')
    .description('Decode and print predictions from the output topic.')
    .option('--from-beginning', 'start at the earliest prediction instead of new ones', false)
    .option('--json', 'print one JSON object per line', false)
    .option('-n, --limit <predictions>', 'exit after printing this many', positiveNumber)
    .action(async (flags: TailFlags, command: Command) => {
      const runtime = createRuntime(command.optsWithGlobals<GlobalOptions>());
      let printed = 0;
      let follower: Promise<Follower> | undefined;
      onShutdownSignal(runtime.logger, async () => (await follower)?.disconnect());
      follower = tailPredictions(runtime, predictionDecoder(runtime), {
        topic: runtime.config.output.topic,
        fromBeginning: flags.fromBeginning,
        onPrediction: (prediction) => {
          if (flags.limit !== undefined && printed >= flags.limit) return;
          process.stdout.write(`${flags.json ? JSON.stringify(prediction) : formatPrediction(prediction)}\n`);
          printed += 1;
          if (printed === flags.limit) process.kill(process.pid, 'SIGTERM');
        },
      });
      await follower;
    });
}
