/**
 * Topics are created on purpose, never as a side effect of a client touching them: auto-creation would
 * give a typo its own topic with the broker's default partition count and silently split the stream.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin } from 'kafkajs';
import { ConfigurationError, StreamscoreError } from '../errors/index.js';
import type { Logger } from '../telemetry/index.js';
import { createKafkaClient, type KafkaSettings } from './client.js';
import { isRetriableKafkaError } from './retry.js';
import { explainConnectFailure } from './security.js';

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  replicationFactor: number;
  configEntries?: { name: string; value: string }[];
}

async function withAdmin<T>(
  kafka: KafkaSettings,
  logger: Logger,
  use: (admin: Admin) => Promise<T>,
): Promise<T> {
  const admin = createKafkaClient(kafka, logger, 'admin').admin();
  try {
    await admin.connect();
  } catch (error) {
    throw explainConnectFailure(error, kafka);
  }
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Throws TOPIC_MISSING naming every topic that does not exist. */
export async function requireTopics(
  kafka: KafkaSettings,
  logger: Logger,
  topics: readonly string[],
): Promise<void> {
  const existing = new Set(await withAdmin(kafka, logger, (admin) => admin.listTopics()));
  const missing = topics.filter((topic) => !existing.has(topic));
  if (missing.length > 0) {
    throw new ConfigurationError(
      'TOPIC_MISSING',
      `topic ${missing.join(', ')} does not exist; create it (streamscore topics create) or fix the configuration`,
    );
  }
}

// Kafka's own internal topics keep three replicas where the cluster has them.
const CONTROL_TOPIC_REPLICAS = 3;

/**
 * The control topic is internal to a deployment, as Kafka Streams' changelogs are to an application: its
 * name is derived, not typed, so the service creates it when missing (compacted, one partition so every
 * reader sees one order, up to three replicas). Resolves with whether it created it.
 */
export async function ensureControlTopic(
  kafka: KafkaSettings,
  logger: Logger,
  topic: string,
): Promise<boolean> {
  return withAdmin(kafka, logger, async (admin) => {
    if ((await admin.listTopics()).includes(topic)) return false;
    const { brokers } = await admin.describeCluster();
    return createTopicsWithLeaders(admin, [
      {
        topic,
        numPartitions: 1,
        replicationFactor: Math.min(CONTROL_TOPIC_REPLICAS, brokers.length),
        configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
      },
    ]);
  });
}

/** Creates the topics that do not exist yet; returns the ones it created. */
export async function createMissingTopics(
  kafka: KafkaSettings,
  logger: Logger,
  specs: readonly TopicSpec[],
): Promise<string[]> {
  return withAdmin(kafka, logger, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((spec) => !existing.has(spec.topic));
    if (missing.length === 0) return [];
    await createTopicsWithLeaders(admin, missing);
    return missing.map((spec) => spec.topic);
  });
}

const SETTLE_POLL_MS = 100;
const SETTLE_TIMEOUT_MS = 30_000;

/** Creates the topics (false when every one existed already) and resolves once each partition has a leader. */
export async function createTopicsWithLeaders(admin: Admin, specs: readonly TopicSpec[]): Promise<boolean> {
  const created = await admin.createTopics({
    topics: specs.map((spec) => ({ ...spec })),
    waitForLeaders: false,
  });
  await waitForLeaders(
    admin,
    specs.map((spec) => spec.topic),
  );
  return created;
}

/**
 * kafkajs's own leader wait gives up on UNKNOWN_TOPIC_OR_PARTITION, which a busy KRaft broker answers while
 * its metadata has not caught up with topics it has just created. That error is retriable, so this wait
 * asks again until its deadline.
 */
export async function waitForLeaders(
  admin: Admin,
  topics: readonly string[],
  timeoutMs = SETTLE_TIMEOUT_MS,
): Promise<void> {
  await untilClusterSettles(
    async () => {
      const metadata = await admin.fetchTopicMetadata({ topics: [...topics] });
      return metadata.topics.every(({ partitions }) => partitions.every(({ leader }) => leader >= 0))
        ? true
        : undefined;
    },
    `topic ${topics.join(', ')} has no leader`,
    timeoutMs,
  );
}

/**
 * Each partition's low and high offsets. kafkajs's lookup gives up at once on NOT_LEADER_OR_FOLLOWER, which
 * a busy KRaft broker answers for a partition its metadata already says it leads but whose leadership it
 * has not taken up yet (a control topic created a moment ago): this lookup asks again.
 */
export function fetchTopicEnds(
  admin: Admin,
  topic: string,
  timeoutMs = SETTLE_TIMEOUT_MS,
): Promise<Array<{ partition: number; low: string; high: string }>> {
  return untilClusterSettles(
    () => admin.fetchTopicOffsets(topic),
    `the offsets of topic ${topic} cannot be read`,
    timeoutMs,
  );
}

/** Each partition's first offset at or after `fromMs`, or its high offset when it has nothing that late. */
export function fetchTopicOffsetsSince(
  admin: Admin,
  topic: string,
  fromMs: number,
  timeoutMs = SETTLE_TIMEOUT_MS,
): Promise<Array<{ partition: number; offset: string }>> {
  return untilClusterSettles(
    () => admin.fetchTopicOffsetsByTimestamp(topic, fromMs),
    `the offsets of topic ${topic} at ${new Date(fromMs).toISOString()} cannot be read`,
    timeoutMs,
  );
}

/**
 * Asks again, every 100 ms until the deadline, while the answer is undefined ("not yet") or the cluster
 * answers with an error kafkajs marks retriable; any other error is thrown at once.
 */
export async function untilClusterSettles<T>(
  ask: () => Promise<T | undefined>,
  failure: string,
  timeoutMs = SETTLE_TIMEOUT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() <= deadline) {
    try {
      const answer = await ask();
      if (answer !== undefined) return answer;
    } catch (error) {
      if (!isRetriableKafkaError(error)) throw error;
      lastError = error;
    }
    await sleep(SETTLE_POLL_MS);
  }
  throw new StreamscoreError('KAFKA_UNAVAILABLE', `${failure} after ${timeoutMs} ms`, {
    cause: lastError,
  });
}
