/**
 * The test proxy on the real broker: kafkajs works through it and never slips past it, and a held EndTxn
 * response gives the fault tests an exactly-once commit whose outcome the producer cannot know.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, KafkaJSConnectionError, logLevel } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { createTopics, readRecords, testKafka, uniqueName, withAdmin } from '../support/kafka.js';
import { ApiKey, type KafkaProxy, startKafkaProxy } from '../support/kafka-proxy.js';

const brokers = inject('kafkaBrokers');
const direct = testKafka(brokers);

/** A client whose every connection should go through `proxy`, failing fast rather than retrying long. */
function proxiedKafka(proxy: KafkaProxy): Kafka {
  return new Kafka({
    clientId: 'kafka-proxy-test',
    brokers: [proxy.broker],
    logLevel: logLevel.NOTHING,
    requestTimeout: 5_000,
    retry: { retries: 2, initialRetryTime: 100 },
  });
}

/** Fails fast instead of at the test timeout when the proxy never sees what a test waits for. */
function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const values = (records: Awaited<ReturnType<typeof readRecords>>) =>
  records.map(({ message }) => message.value?.toString());

describe('kafka proxy with kafkajs', () => {
  let proxy: KafkaProxy;

  beforeEach(async () => {
    proxy = await startKafkaProxy(brokers[0]!);
  });

  afterEach(async () => {
    await proxy.close();
  });

  it('carries a producer and a consumer end to end, and keeps every connection on the proxy', async () => {
    const topic = uniqueName('proxy-e2e');
    await createTopics(direct, [topic], 1);
    const versions = { metadata: new Set<number>(), findCoordinator: new Set<number>() };
    proxy.onRequest(ApiKey.Metadata, ({ apiVersion }) => versions.metadata.add(apiVersion));
    proxy.onRequest(ApiKey.FindCoordinator, ({ apiVersion }) => versions.findCoordinator.add(apiVersion));
    const kafka = proxiedKafka(proxy);

    const cluster = await withAdmin(kafka, (admin) => admin.describeCluster());
    expect(cluster.brokers.map(({ host, port }) => `${host}:${port}`)).toEqual([proxy.broker]);

    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: ['a', 'b', 'c'].map((value) => ({ value })) });
    await producer.disconnect();
    expect(values(await readRecords(kafka, topic, 3, 20_000))).toEqual(['a', 'b', 'c']);

    expect(proxy.requests(ApiKey.Produce)).toBe(1);
    expect(proxy.requests(ApiKey.Fetch)).toBeGreaterThan(0);
    // The only layouts the proxy rewrites: if kafkajs or the broker moved on, the rewrite would have failed.
    expect([...versions.metadata]).toEqual([6]);
    expect([...versions.findCoordinator]).toEqual([2]);
  });

  async function openTransaction(kafka: Kafka, topic: string, messages: string[]) {
    await createTopics(direct, [topic], 1);
    const producer = kafka.producer({
      transactionalId: uniqueName('proxy-txn'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const transaction = await producer.transaction();
    await transaction.send({ topic, acks: -1, messages: messages.map((value) => ({ value })) });
    return { producer, transaction };
  }

  it('drops a held EndTxn response: commit() fails, yet the broker committed', async () => {
    const topic = uniqueName('proxy-dropped');
    const messages = ['x', 'y', 'z'];
    const { producer, transaction } = await openTransaction(proxiedKafka(proxy), topic, messages);
    // Control: nothing is visible to read_committed readers before EndTxn (the high offset is the LSO).
    const before = await withAdmin(direct, (admin) => admin.fetchTopicOffsets(topic));
    expect(before.map(({ high }) => high)).toEqual(['0']);

    const seen: number[] = [];
    proxy.onRequest(ApiKey.EndTxn, ({ correlationId }) => seen.push(correlationId));
    const held = proxy.holdNextResponse(ApiKey.EndTxn);
    const outcome = transaction.commit().then(
      () => 'committed',
      (error: unknown) => error,
    );
    const response = await within(held, 'held response');
    expect(response.request.apiKey).toBe(ApiKey.EndTxn);
    expect(seen).toEqual([response.request.correlationId]);
    const droppedAt = Date.now();
    response.drop();

    const error = await outcome;
    expect(error).toBeInstanceOf(KafkaJSConnectionError);
    expect(error).toMatchObject({ name: 'KafkaJSConnectionClosedError', retriable: true });
    expect(Date.now() - droppedAt).toBeLessThan(1_000);
    // kafkajs does not retry EndTxn: one went out, and the proxy held its only response.
    expect(proxy.requests(ApiKey.EndTxn)).toBe(1);
    await producer.disconnect();

    // kafkajs consumers are read_committed: these records show up only because the broker committed.
    expect(values(await readRecords(direct, topic, messages.length, 20_000))).toEqual(messages);
  });

  it('releases a held EndTxn response: commit() resolves normally', async () => {
    const topic = uniqueName('proxy-released');
    const messages = ['p', 'q'];
    const { producer, transaction } = await openTransaction(proxiedKafka(proxy), topic, messages);

    const held = proxy.holdNextResponse(ApiKey.EndTxn);
    let settled = false;
    const commit = transaction.commit().finally(() => {
      settled = true;
    });
    const response = await within(held, 'held response');
    await sleep(300);
    expect(settled).toBe(false);
    response.release();
    await expect(commit).resolves.toBeUndefined();
    await producer.disconnect();

    expect(values(await readRecords(direct, topic, messages.length, 20_000))).toEqual(messages);
  });
});

/** A Kafka request frame with a v1 header (or v2, `flexible`, which adds empty tagged fields). */
function requestFrame(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  flexible = false,
  body = '',
) {
  const clientId = Buffer.from('raw');
  const header = Buffer.alloc(10);
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(apiVersion, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(clientId.length, 8);
  const payload = Buffer.concat([
    header,
    clientId,
    Buffer.from(flexible ? '00' : '', 'hex'),
    Buffer.from(body, 'hex'),
  ]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length, 0);
  return Buffer.concat([size, payload]);
}

/** Correlation ids of the whole response frames received so far. */
function correlationIds(received: Buffer): number[] {
  const ids: number[] = [];
  for (let offset = 0; offset + 8 <= received.length; offset += 4 + received.readInt32BE(offset)) {
    ids.push(received.readInt32BE(offset + 4));
  }
  return ids;
}

async function rawClient(proxy: KafkaProxy): Promise<{ socket: Socket; received: () => Buffer }> {
  const socket = connect({ host: '127.0.0.1', port: proxy.port });
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { socket, received: () => Buffer.concat(chunks) };
}

describe('kafka proxy at the protocol level', () => {
  it('queues later responses behind a held one and forwards them in order on release', async () => {
    const proxy = await startKafkaProxy(brokers[0]!);
    try {
      const { socket, received } = await rawClient(proxy);
      const held = proxy.holdNextResponse(ApiKey.ApiVersions);
      socket.write(
        Buffer.concat([requestFrame(ApiKey.ApiVersions, 0, 1), requestFrame(ApiKey.ApiVersions, 0, 2)]),
      );
      const response = await within(held, 'held response');
      expect(response.request.correlationId).toBe(1);
      await sleep(300);
      expect(received()).toHaveLength(0);
      response.release();
      await expect.poll(() => correlationIds(received()), { timeout: 5_000 }).toEqual([1, 2]);
      socket.destroy();
    } finally {
      await proxy.close();
    }
  });

  it('closes the connection and reports the error on a Metadata version it cannot rewrite', async () => {
    const proxy = await startKafkaProxy(brokers[0]!);
    const { socket, received } = await rawClient(proxy);
    const closed = once(socket, 'close');
    // Metadata v12, flexible: null topics (all), allow auto creation, no authorized operations, no tags.
    socket.write(requestFrame(ApiKey.Metadata, 12, 7, true, '00010000'));
    await within(closed, 'closed connection');
    expect(received()).toHaveLength(0);
    await expect(proxy.close()).rejects.toThrow('no parser for api key 3 v12 responses');
  });
});
