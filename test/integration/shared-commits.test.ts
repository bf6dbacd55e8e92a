/**
 * The consumer loop's commits on a real broker: the batches of several partitions delivered together
 * commit in shared OffsetCommit requests (src/kafka/shared-commits.ts), and every partition still ends
 * committed at its end offset. The member talks to the broker through the test proxy, which counts its
 * OffsetCommit requests; how commits behave under crashes and rebalances is the fault suite's.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import {
  type BatchLoop,
  createDelivery,
  createGroupMember,
  type Delivery,
  type GroupMember,
} from '../../src/kafka/index.js';
import { createLogger } from '../../src/telemetry/index.js';
import {
  committedVersusEnd,
  connectedProducer,
  createTopics,
  eventually,
  testKafka,
  uniqueName,
} from '../support/kafka.js';
import { ApiKey, type KafkaProxy, startKafkaProxy } from '../support/kafka-proxy.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers);
const PARTITIONS = 3;
const CHUNKS = 20;
const RECORDS_PER_CHUNK = 20;
/** Small fetches, so each partition arrives in many batches and every fetch brings several partitions. */
const MAX_BYTES_PER_PARTITION = 2_048;
const JOIN_ATTEMPTS = 5;

describe('offset commits of the batches delivered together', () => {
  let proxy: KafkaProxy;
  let member: GroupMember | undefined;
  let delivery: Delivery | undefined;
  const input = uniqueName('shared-commits-in');
  const output = uniqueName('shared-commits-out');
  const groupId = uniqueName('shared-commits-group');

  beforeAll(async () => {
    await createTopics(kafka, [input, output], PARTITIONS);
    const producer = await connectedProducer(kafka);
    try {
      // A send per chunk: each becomes a record batch of its own in every partition, and a fetch of
      // MAX_BYTES_PER_PARTITION brings about one of them per partition.
      for (let chunk = 0; chunk < CHUNKS; chunk++) {
        const messages = Array.from({ length: PARTITIONS * RECORDS_PER_CHUNK }, (_, index) => ({
          partition: index % PARTITIONS,
          key: `account-${index}`,
          value: Buffer.alloc(64, index),
        }));
        await producer.send({ topic: input, messages, acks: -1 });
      }
    } finally {
      await producer.disconnect();
    }
    proxy = await startKafkaProxy(brokers[0]!);
  });

  afterAll(async () => {
    await member?.disconnect();
    await delivery?.close();
    await proxy?.close();
  });

  it('sends fewer OffsetCommit requests than it delivers batches, and commits every partition to its end', async () => {
    const config = loadConfig({
      env: {},
      overrides: {
        kafka: { brokers: [proxy.broker] },
        input: { topic: input, groupId, fromBeginning: true, maxBytesPerPartition: MAX_BYTES_PER_PARTITION },
        log: { level: 'warn' },
      },
    });
    const logger = createLogger(config.log);
    const stopping = new AbortController();
    const started = createDelivery(config.kafka, logger, {
      groupId,
      inputTopic: input,
      compression: 'none',
      exactlyOnce: false,
      retry: { initialMs: 10, maxMs: 100, signal: stopping.signal },
    });
    delivery = started;
    let delivered = 0;
    const loop: BatchLoop = {
      handleBatch: async (batch, control) => {
        const outcome = await started.deliver(
          {
            partition: batch.partition,
            firstOffset: batch.firstOffset,
            lastOffset: batch.lastOffset,
            output: [{ topic: output, records: batch.records.map(({ key, value }) => ({ key, value })) }],
          },
          control,
        );
        if (outcome === 'delivered') delivered += 1;
        return outcome;
      },
    };
    // A broker the tests have just started may still be loading its group coordinator, and kafkajs gives
    // up the join after a few retries; the service is restarted by its orchestrator, the test joins again.
    for (let attempt = 1; ; attempt++) {
      member = createGroupMember(config.kafka, logger, config.input);
      try {
        await member.run(loop);
        break;
      } catch (error) {
        await member.disconnect();
        if (attempt >= JOIN_ATTEMPTS) throw error;
        await sleep(1_000);
      }
    }
    const allCommitted = async () => {
      try {
        const partitions = await committedVersusEnd(kafka, groupId, input);
        return partitions.every(({ committed, end }) => committed === end);
      } catch (error) {
        // The coordinator still loading, as above: asked again at the next poll.
        if ((error as { retriable?: boolean }).retriable) return false;
        throw error;
      }
    };
    expect(await eventually(allCommitted, 60_000)).toBe(true);

    const requests = proxy.requests(ApiKey.OffsetCommit);
    expect(delivered).toBeGreaterThanOrEqual(PARTITIONS * CHUNKS);
    expect(requests).toBeGreaterThan(0);
    // With a request per batch, requests would equal batches; shared, each carries several partitions.
    expect(requests).toBeLessThan(delivered * 0.75);
  });
});
