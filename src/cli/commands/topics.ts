import type { Command } from 'commander';
import { createMissingTopics } from '../../kafka/index.js';
import { createRuntime, type GlobalOptions, type Runtime } from '../runtime.js';
import { positiveNumber } from './produce.js';

export interface TopicLayout {
  partitions: number;
  replicationFactor: number;
}

/** Creates the configured input, output and dead-letter topics that do not exist yet. */
export async function createServiceTopics(
  { config, logger }: Runtime,
  layout: TopicLayout,
): Promise<string[]> {
  const specs = [config.input.topic, config.output.topic, config.deadLetter.topic].map((topic) => ({
    topic,
    numPartitions: layout.partitions,
    replicationFactor: layout.replicationFactor,
  }));
  return createMissingTopics(config.kafka, logger, specs);
}

export function registerTopics(program: Command): void {
  const topics = program.command('topics').description('Manage the topics streamscore reads and writes.');
  topics
    .command('create')
    .description('Create the configured input, output and dead-letter topics if they do not exist.')
    .option('-p, --partitions <n>', 'partitions per topic', positiveNumber, 3)
    .option('--replication-factor <n>', 'replicas per partition', positiveNumber, 1)
    .action(async (flags: TopicLayout, command: Command) => {
      const runtime = createRuntime(command.optsWithGlobals<GlobalOptions>());
      const created = await createServiceTopics(runtime, flags);
      runtime.logger.info({ created }, created.length ? `created ${created.join(', ')}` : 'all topics exist');
    });
}
