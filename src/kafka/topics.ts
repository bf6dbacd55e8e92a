/**
 * Topics are created on purpose, never as a side effect of a client touching them: auto-creation would
 * give a typo its own topic with the broker's default partition count and silently split the stream.
 */
import type { Admin } from 'kafkajs';
import { ConfigurationError } from '../errors/index.js';

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  replicationFactor: number;
}

/** Throws TOPIC_MISSING naming every topic that does not exist. */
export async function requireTopics(admin: Admin, topics: readonly string[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((topic) => !existing.has(topic));
  if (missing.length > 0) {
    throw new ConfigurationError(
      'TOPIC_MISSING',
      `topic ${missing.join(', ')} does not exist; create it (streamscore topics create) or fix the configuration`,
    );
  }
}

/** Creates the topics that do not exist yet; returns the ones it created. */
export async function createMissingTopics(admin: Admin, specs: readonly TopicSpec[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((spec) => !existing.has(spec.topic));
  if (missing.length === 0) return [];
  await admin.createTopics({ topics: missing.map((spec) => ({ ...spec })), waitForLeaders: true });
  return missing.map((spec) => spec.topic);
}
