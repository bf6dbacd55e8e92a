/**
 * Topic creation on a real broker (src/kafka/topics.ts). A busy KRaft broker can answer a metadata request
 * for a topic it has just created with UNKNOWN_TOPIC_OR_PARTITION; the leader wait must take that as "not
 * yet", which these tests show by waiting on a topic before it exists.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, inject, it } from 'vitest';
import { createTopicsWithLeaders, waitForLeaders } from '../../src/kafka/index.js';
import { testKafka, uniqueName, withAdmin } from '../support/kafka.js';

const kafka = testKafka(inject('kafkaBrokers'));

describe('waiting for topic leaders', () => {
  it('keeps asking while the broker does not know the topic yet, and resolves once it is led', async () => {
    const topic = uniqueName('topics-late');
    await withAdmin(kafka, async (admin) => {
      const waited = waitForLeaders(admin, [topic], 20_000);
      await sleep(600);
      await withAdmin(kafka, (creator) =>
        creator.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: false }),
      );
      await waited;
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(topics[0]?.partitions.map(({ leader }) => leader >= 0)).toEqual([true, true]);
    });
  });

  it('names the topics when none is led by the deadline', async () => {
    const topic = uniqueName('topics-never');
    await withAdmin(kafka, async (admin) => {
      await expect(waitForLeaders(admin, [topic], 500)).rejects.toMatchObject({
        code: 'KAFKA_UNAVAILABLE',
        message: expect.stringContaining(topic),
      });
    });
  });

  it('creates topics once: a second creation reports that they existed', async () => {
    const specs = [{ topic: uniqueName('topics-once'), numPartitions: 3, replicationFactor: 1 }];
    await withAdmin(kafka, async (admin) => {
      expect(await createTopicsWithLeaders(admin, specs)).toBe(true);
      expect(await createTopicsWithLeaders(admin, specs)).toBe(false);
      const { topics } = await admin.fetchTopicMetadata({ topics: [specs[0]!.topic] });
      expect(topics[0]?.partitions).toHaveLength(3);
    });
  });
});
