import type { Command } from 'commander';
import { loadAvroSchema } from '../../codec/index.js';
import { createMissingTopics, ensureControlTopic } from '../../kafka/index.js';
import { LABEL_SCHEMA_PATH, MONITORING_EVENT_SCHEMA_PATH } from '../../monitoring/index.js';
import { ALERT_SCHEMA_PATH, COMPARISON_SCHEMA_PATH } from '../../routing/index.js';
import { openRegistry, subjectFor } from '../../service/index.js';
import { createRuntime, type GlobalOptions, type Runtime } from '../runtime.js';
import { positiveNumber } from './produce.js';

export interface TopicLayout {
  partitions: number;
  replicationFactor: number;
}

/**
 * Creates the configured topics that do not exist yet: input, output, dead letters, comparisons, alerts,
 * monitoring and (when configured) labels with the given layout (comparisons and alerts are keyed like the
 * predictions, so they get the same partitions), and the deployments control topic (compacted, one
 * partition).
 */
export async function createServiceTopics(
  { config, logger }: Runtime,
  layout: TopicLayout,
): Promise<string[]> {
  const specs = [
    config.input.topic,
    config.output.topic,
    config.deadLetter.topic,
    config.experiments.comparisonTopic,
    config.monitoring.alertsTopic,
    config.monitoring.topic,
    ...(config.monitoring.labelsTopic ? [config.monitoring.labelsTopic] : []),
  ].map((topic) => ({
    topic,
    numPartitions: layout.partitions,
    replicationFactor: layout.replicationFactor,
  }));
  const created = await createMissingTopics(config.kafka, logger, specs);
  const control = await ensureControlTopic(config.kafka, logger, config.deployments.topic);
  return control ? [...created, config.deployments.topic] : created;
}

/**
 * Registers the input, prediction, comparison, alert, monitoring and (when configured) label schemas under
 * their topics' subjects, for a registry where the service itself may not register (registry.autoRegister
 * off); returns subject → id.
 */
export async function registerServiceSchemas({ config }: Runtime): Promise<Record<string, number>> {
  const registry = openRegistry(config);
  try {
    const schemas = [
      [config.input.topic, config.input.schema],
      [config.output.topic, config.output.schema],
      [config.experiments.comparisonTopic, COMPARISON_SCHEMA_PATH],
      [config.monitoring.alertsTopic, ALERT_SCHEMA_PATH],
      [config.monitoring.topic, MONITORING_EVENT_SCHEMA_PATH],
      ...(config.monitoring.labelsTopic ? [[config.monitoring.labelsTopic, LABEL_SCHEMA_PATH] as const] : []),
    ] as const;
    const ids: Record<string, number> = {};
    for (const [topic, path] of schemas) {
      const type = loadAvroSchema(path);
      const subject = subjectFor(config, topic, type);
      ids[subject] = await registry.register(subject, JSON.stringify(type.schema()));
    }
    return ids;
  } finally {
    registry.close();
  }
}

interface CreateFlags extends TopicLayout {
  registerSchemas: boolean;
}

export function registerTopics(program: Command): void {
  const topics = program.command('topics').description('Manage the topics streamscore reads and writes.');
  topics
    .command('create')
    .description(
      'Create the configured input, output, dead-letter, comparison, alert, monitoring, labels and deployments topics if they do not exist.',
    )
    .option('-p, --partitions <n>', 'partitions per topic', positiveNumber, 3)
    .option('--replication-factor <n>', 'replicas per partition', positiveNumber, 1)
    .option(
      '--register-schemas',
      'also register the input, prediction, comparison, alert, monitoring and label schemas in the schema registry (registry.urls)',
      false,
    )
    .action(async (flags: CreateFlags, command: Command) => {
      const runtime = createRuntime(command.optsWithGlobals<GlobalOptions>());
      const created = await createServiceTopics(runtime, flags);
      runtime.logger.info({ created }, created.length ? `created ${created.join(', ')}` : 'all topics exist');
      if (flags.registerSchemas) {
        const registered = await registerServiceSchemas(runtime);
        runtime.logger.info({ registered }, `registered ${Object.keys(registered).join(', ')}`);
      }
    });
}
