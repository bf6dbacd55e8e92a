/**
 * At-least-once delivery sends a batch's commit and returns, so the consumer loop fetches again without
 * waiting a commit round trip; the partition's next batch publishes only once that commit is acknowledged.
 * The producer and the output topic are real; the batch control stands in for the group member's, so the
 * test decides when each commit is acknowledged and how it fails. What the brokers do with real commits
 * under crashes and rebalances is the fault suite's (sigkill, sigterm, broker-bounce, scale-out).
 */
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import {
  type BatchControl,
  createDelivery,
  type DeliveredBatch,
  type Delivery,
} from '../../src/kafka/index.js';
import { createLogger } from '../../src/telemetry/index.js';
import { createTopics, testKafka, uniqueName, withAdmin } from '../support/kafka.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers);
const { KafkaJSProtocolError } = kafkajs;

/** A commit the test acknowledges or fails by hand. */
interface PendingCommit {
  offset: string;
  acknowledge(): void;
  fail(error: Error): void;
}

/** A batch control whose commits wait for the test; everything else answers "still yours". */
function heldControl(): { control: BatchControl; commits: PendingCommit[] } {
  const commits: PendingCommit[] = [];
  const control: BatchControl = {
    isStale: () => false,
    commit: (offset) =>
      new Promise<void>((resolve, reject) => {
        commits.push({ offset, acknowledge: resolve, fail: reject });
      }),
    ownership: async () => 'owned',
    committedOffset: async () => -1n,
    seek: () => undefined,
  };
  return { control, commits };
}

/** A control whose commits are acknowledged at once, recording the offsets asked for. */
function promptControl(): { control: BatchControl; offsets: string[] } {
  const offsets: string[] = [];
  const { control } = heldControl();
  return {
    control: {
      ...control,
      commit: async (offset) => {
        offsets.push(offset);
      },
    },
    offsets,
  };
}

/** What kafkajs throws when the group coordinator no longer counts the member in the generation. */
const protocolError = (message: string, type: string, code: number, retriable: boolean) =>
  new KafkaJSProtocolError(Object.assign(new Error(message), { type, code, retriable }));
const rebalancing = () =>
  protocolError('The group is rebalancing, so a rejoin is needed', 'REBALANCE_IN_PROGRESS', 27, false);
const timedOut = () => protocolError('The request timed out', 'REQUEST_TIMED_OUT', 7, true);

const settledWithin = async (promise: Promise<unknown>, ms: number) =>
  Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => setTimeout(resolve, ms, false))]);

describe('at-least-once delivery commits behind the consumer loop', () => {
  let topic: string;
  let current: Delivery | undefined;
  let stopping: AbortController;

  const batch = (firstOffset: number, records: number): DeliveredBatch => ({
    partition: 0,
    firstOffset: String(firstOffset),
    lastOffset: String(firstOffset + records - 1),
    output: [
      {
        topic,
        records: Array.from({ length: records }, (_, index) => ({
          key: 'account',
          value: Buffer.from(`prediction ${firstOffset + index}`),
        })),
      },
    ],
  });

  const published = () =>
    withAdmin(kafka, async (admin) => {
      const [partition] = await admin.fetchTopicOffsets(topic);
      return Number(partition?.high);
    });

  beforeAll(async () => {
    topic = uniqueName('commit-behind');
    await createTopics(kafka, [topic], 1);
  });

  const open = async (): Promise<Delivery> => {
    await current?.close();
    const config = loadConfig({ env: {}, overrides: { kafka: { brokers }, log: { level: 'warn' } } });
    stopping = new AbortController();
    current = createDelivery(config.kafka, createLogger(config.log), {
      groupId: uniqueName('commit-behind-group'),
      inputTopic: 'unused',
      compression: 'none',
      exactlyOnce: false,
      retry: { initialMs: 10, maxMs: 50, signal: stopping.signal },
    });
    return current;
  };

  afterAll(async () => {
    await current?.close();
  });

  it('returns once the output is acknowledged, and holds the next batch until the commit is', async () => {
    const delivery = await open();
    const { control, commits } = heldControl();
    const before = await published();
    await expect(delivery.deliver(batch(0, 3), control)).resolves.toBe('delivered');
    expect(await published()).toBe(before + 3);
    expect(commits.map(({ offset }) => offset)).toEqual(['3']);

    const second = delivery.deliver(batch(3, 2), control);
    expect(await settledWithin(second, 300)).toBe(false);
    expect(await published()).toBe(before + 3);
    commits[0]!.acknowledge();
    await expect(second).resolves.toBe('delivered');
    expect(await published()).toBe(before + 5);
    expect(commits.map(({ offset }) => offset)).toEqual(['3', '5']);

    const settled = delivery.settle();
    expect(await settledWithin(settled, 100)).toBe(false);
    commits[1]!.acknowledge();
    await settled;
  });

  it('commits again, before publishing, what a failed commit left uncommitted', async () => {
    const delivery = await open();
    const { control, commits } = heldControl();
    await delivery.deliver(batch(10, 2), control);
    commits[0]!.fail(timedOut());
    const { control: next, offsets } = promptControl();
    const before = await published();
    await expect(delivery.deliver(batch(12, 2), next)).resolves.toBe('delivered');
    // The failed commit first, then the batch's own.
    expect(offsets).toEqual(['12', '14']);
    expect(await published()).toBe(before + 2);
    await delivery.settle();
  });

  it('publishes nothing more for a partition whose commit says it is no longer this member', async () => {
    const delivery = await open();
    const { control, commits } = heldControl();
    await delivery.deliver(batch(20, 1), control);
    commits[0]!.fail(rebalancing());
    const before = await published();
    await expect(delivery.deliver(batch(21, 1), control)).resolves.toBe('lost');
    expect(await published()).toBe(before);
  });

  it('starts each generation afresh: a commit lost before the join does not stop the next', async () => {
    const delivery = await open();
    const { control, commits } = heldControl();
    await delivery.deliver(batch(30, 1), control);
    commits[0]!.fail(rebalancing());
    await delivery.assigned([0]);
    const { control: rejoined, offsets } = promptControl();
    await expect(delivery.deliver(batch(30, 1), rejoined)).resolves.toBe('delivered');
    await delivery.settle();
    expect(offsets).toEqual(['31']);
  });

  it('waits for its own commit once the service is stopping', async () => {
    const delivery = await open();
    const { control, commits } = heldControl();
    stopping.abort();
    const delivered = delivery.deliver(batch(40, 1), control);
    expect(await settledWithin(delivered, 300)).toBe(false);
    commits[0]!.acknowledge();
    await expect(delivered).resolves.toBe('delivered');
  });
});
