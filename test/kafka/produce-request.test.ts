/**
 * streamscore patches how kafkajs writes a produce request's records (scripts/patch-kafkajs-records.mjs): a
 * partition's records go into one encoder instead of one each. The broker reads the bytes, so the patched
 * request must encode exactly what kafkajs's original request, batch and record code encode, which this
 * test rebuilds from the installed files: records with and without keys, values, headers and timestamps,
 * several topics and partitions, uncompressed and gzip, and values large enough to outgrow the estimate.
 */
import { createRequire } from 'node:module';
import { describe, expect, it, vi } from 'vitest';
import { RECORD_PATCHES } from '../../scripts/patch-kafkajs-records.mjs';
import { firstLineOf, loadOriginal, patchMarker } from './support/kafkajs-original.js';

const require = createRequire(import.meta.url);

interface Message {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, string | Buffer | (string | Buffer)[]>;
  timestamp?: number;
}
interface ProduceArguments {
  acks: number;
  timeout: number;
  transactionalId?: string;
  producerId?: number;
  producerEpoch?: number;
  compression?: number;
  topicData: {
    topic: string;
    partitions: { partition: number; firstSequence: number; messages: Message[] }[];
  }[];
}
type ProduceRequest = (request: ProduceArguments) => { encode(): Promise<{ buffer: Buffer }> };

const REQUEST_FILE = 'src/protocol/requests/produce/v3/request.js';
const patchOf = (file: string) => RECORD_PATCHES.find((patch) => patch.file === file)!;
const patchedRequest = require(`kafkajs/${REQUEST_FILE}`) as ProduceRequest;
const originalRequest = loadOriginal(patchOf(REQUEST_FILE), {
  '../../../recordBatch/record/v0': loadOriginal(patchOf('src/protocol/recordBatch/record/v0/index.js')),
  '../../../recordBatch/v0': loadOriginal(patchOf('src/protocol/recordBatch/v0/index.js')),
}) as ProduceRequest;
const GZIP = (require('kafkajs') as { CompressionTypes: { GZIP: number } }).CompressionTypes.GZIP;

const NOW = 1_764_700_000_000;

async function expectSameBytes(request: ProduceArguments): Promise<Buffer> {
  const patched = (await patchedRequest(request).encode()).buffer;
  expect(patched.equals((await originalRequest(request).encode()).buffer)).toBe(true);
  return patched;
}

const messages = (count: number, make: (index: number) => Message) =>
  Array.from({ length: count }, (_, i) => make(i));

describe('kafkajs produce request records, as installed', () => {
  it.each(RECORD_PATCHES.map(({ name, file }) => [name, file]))('%s is the patched file', (name, file) => {
    expect(firstLineOf(file)).toBe(patchMarker(name));
  });

  it('encodes a request of plain records, several topics and partitions, as the original does', async () => {
    const bytes = await expectSameBytes({
      acks: -1,
      timeout: 30_000,
      producerId: 7,
      producerEpoch: 1,
      topicData: ['predictions', 'predictions.DLT'].map((topic) => ({
        topic,
        partitions: [0, 1, 2].map((partition) => ({
          partition,
          firstSequence: partition * 10,
          messages: messages(50, (i) => ({
            key: Buffer.from(`account-${i}`),
            value: Buffer.alloc(90 + (i % 7), i),
            timestamp: NOW + i,
          })),
        })),
      })),
    });
    expect(bytes.length).toBeGreaterThan(2 * 3 * 50 * 90);
  });

  it('encodes null keys and values, string keys, headers and missing timestamps as the original does', async () => {
    const many = messages(20, (i) => ({
      key: i % 3 === 0 ? null : i % 3 === 1 ? `key-${i}` : Buffer.from([i]),
      value: i % 5 === 0 ? null : `välue-${i}`,
      ...(i % 2 === 0
        ? {
            headers: {
              traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
              'x-many': ['one', Buffer.from([i])],
            },
          }
        : {}),
      ...(i % 4 === 0 ? {} : { timestamp: NOW + 1_000 * i }),
    }));
    // A record without a timestamp is stamped with the time of encoding: the same instant for both.
    const now = vi.spyOn(Date, 'now').mockReturnValue(NOW + 5);
    try {
      await expectSameBytes({
        acks: 1,
        timeout: 1_000,
        transactionalId: 'streamscore-tx-0',
        topicData: [{ topic: 't', partitions: [{ partition: 0, firstSequence: 0, messages: many }] }],
      });
    } finally {
      now.mockRestore();
    }
  });

  it('encodes records that outgrow the size estimate, and a gzip batch, as the original does', async () => {
    const large = messages(30, (i) => ({
      value: Buffer.alloc(10, i),
      headers: { big: Buffer.alloc(5_000 + i, 1) },
      timestamp: NOW,
    }));
    await expectSameBytes({
      acks: -1,
      timeout: 1_000,
      topicData: [{ topic: 't', partitions: [{ partition: 3, firstSequence: 0, messages: large }] }],
    });
    await expectSameBytes({
      acks: -1,
      timeout: 1_000,
      compression: GZIP,
      topicData: [
        {
          topic: 't',
          partitions: [
            {
              partition: 0,
              firstSequence: 0,
              messages: messages(40, (i) => ({ value: `v${i}`, timestamp: NOW + i })),
            },
          ],
        },
      ],
    });
  });
});
