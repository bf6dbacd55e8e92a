/**
 * The at-least-once producer's shared requests (src/kafka/shared-sends.ts): which outputs go out together,
 * in which order, and who hears of a failure. The request itself is a stand-in that records what it was
 * given; the real producer and broker are test/integration/commit-behind.test.ts's and the fault suite's.
 */
import type { TopicMessages } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { TopicRecords } from '../../src/kafka/records.js';
import { createSharedSends } from '../../src/kafka/shared-sends.js';

const output = (topic: string, ...values: string[]): TopicRecords[] => [
  { topic, records: values.map((value) => ({ key: value, value: Buffer.from(value) })) },
];

/** What each request carried: per topic, the values in order. */
const carried = (requests: TopicMessages[][]) =>
  requests.map((request) =>
    Object.fromEntries(
      request.map(({ topic, messages }) => [topic, messages.map(({ value }) => String(value))]),
    ),
  );

/** A request that waits for the test to acknowledge or fail it. */
function heldRequests() {
  const requests: TopicMessages[][] = [];
  const pending: { resolve(): void; reject(error: Error): void }[] = [];
  const sendRequest = (topicMessages: TopicMessages[]) =>
    new Promise<void>((resolve, reject) => {
      requests.push(topicMessages);
      pending.push({ resolve, reject });
    });
  return { requests, pending, sendRequest };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('shared produce requests', () => {
  it('sends the outputs ready in one turn as one request, one entry per topic', async () => {
    const { requests, pending, sendRequest } = heldRequests();
    const sends = createSharedSends(sendRequest);
    const first = sends.send(output('predictions', 'a1', 'a2'));
    const second = sends.send([...output('predictions', 'b1'), ...output('dead-letters', 'b2')]);
    await turn();
    expect(carried(requests)).toEqual([{ predictions: ['a1', 'a2', 'b1'], 'dead-letters': ['b2'] }]);
    pending[0]!.resolve();
    await expect(Promise.all([first, second])).resolves.toEqual([undefined, undefined]);
  });

  it('gathers what arrives while a request is in flight into the next one', async () => {
    const { requests, pending, sendRequest } = heldRequests();
    const sends = createSharedSends(sendRequest);
    const first = sends.send(output('predictions', 'a'));
    await turn();
    const second = sends.send(output('predictions', 'b'));
    const third = sends.send(output('predictions', 'c'));
    await turn();
    expect(requests).toHaveLength(1);
    pending[0]!.resolve();
    await first;
    await turn();
    expect(carried(requests)).toEqual([{ predictions: ['a'] }, { predictions: ['b', 'c'] }]);
    let settled = false;
    void second.then(() => {
      settled = true;
    });
    await turn();
    expect(settled).toBe(false);
    pending[1]!.resolve();
    await Promise.all([second, third]);
  });

  it('fails every output of a failed request, and goes on with the next outputs', async () => {
    const { requests, pending, sendRequest } = heldRequests();
    const sends = createSharedSends(sendRequest);
    const first = sends.send(output('predictions', 'a'));
    const second = sends.send(output('predictions', 'b'));
    await turn();
    const third = sends.send(output('predictions', 'c'));
    pending[0]!.reject(new Error('NOT_ENOUGH_REPLICAS'));
    await expect(first).rejects.toThrow('NOT_ENOUGH_REPLICAS');
    await expect(second).rejects.toThrow('NOT_ENOUGH_REPLICAS');
    await turn();
    expect(carried(requests).at(-1)).toEqual({ predictions: ['c'] });
    pending[1]!.resolve();
    await third;
  });

  it('splits what it gathered into requests the brokers accept, keeping the order', async () => {
    const requests: TopicMessages[][] = [];
    const sends = createSharedSends(async (topicMessages) => {
      requests.push(topicMessages);
    });
    // 300 records of 1 KiB each: two of these are over what one request may carry (512 KiB).
    const large = (prefix: string): TopicRecords => ({
      topic: 'predictions',
      records: Array.from({ length: 300 }, (_, index) => ({
        key: `${prefix}${index}`,
        value: Buffer.alloc(1024),
      })),
    });
    const first = large('a');
    const second = large('b');
    await Promise.all([sends.send([first]), sends.send([second])]);
    expect(requests.length).toBeGreaterThan(1);
    const keys = requests.flatMap((request) =>
      request.flatMap(({ messages }) => messages.map(({ key }) => key)),
    );
    expect(keys).toEqual([...first.records, ...second.records].map(({ key }) => key));
  });
});
