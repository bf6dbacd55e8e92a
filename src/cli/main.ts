#!/usr/bin/env node
import { Command } from 'commander';
import { StreamscoreError } from '../errors/index.js';
import { registerConfig } from './commands/config.js';
import { registerDeadLetters } from './commands/deadletters.js';
import { registerDemo } from './commands/demo.js';
import { registerExperiments } from './commands/experiments.js';
import { registerModels } from './commands/models.js';
import { registerProduce } from './commands/produce.js';
import { registerServe } from './commands/serve.js';
import { registerTail } from './commands/tail.js';
import { registerTopics } from './commands/topics.js';

const program = new Command('streamscore')
  .description('Streaming real-time predictions on Kafka: Avro events in, ONNX model scores out.')
  .option('-c, --config <file>', 'JSON configuration file (also STREAMSCORE_CONFIG)')
  .configureHelp({ showGlobalOptions: true })
  .showHelpAfterError();

for (const register of [
  registerServe,
  registerProduce,
  registerTail,
  registerTopics,
  registerModels,
  registerDemo,
  registerExperiments,
  registerDeadLetters,
  registerConfig,
]) {
  register(program);
}

program.parseAsync().catch((error: unknown) => {
  // Configuration and start-up errors are the operator's to fix: say what and exit, no stack trace.
  if (error instanceof StreamscoreError) {
    process.stderr.write(`streamscore: ${error.code}: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`streamscore: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
