/**
 * streamscore patches kafkajs's per-partition grouping of producer messages at install
 * (scripts/patch-kafkajs.mjs). The patched file must be the one installed, and group exactly as kafkajs's
 * own did: every message once, in send order within its partition.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const GROUPING = 'kafkajs/src/producer/groupMessagesPerPartition.js';

type Message = { key: string; partition: number };
type Grouping = (args: {
  topic: string;
  partitionMetadata: unknown[];
  messages: Message[];
  partitioner: (args: { message: Message }) => number;
}) => Record<string, Message[]>;

describe('kafkajs producer grouping, as installed', () => {
  const group = require(GROUPING) as Grouping;

  it('is the linear version from scripts/patch-kafkajs.mjs', () => {
    expect(readFileSync(require.resolve(GROUPING), 'utf8')).toContain(
      'streamscore: linear grouping (scripts/patch-kafkajs.mjs)',
    );
  });

  it('puts every message in its partition once, in send order', () => {
    const messages = Array.from({ length: 10_000 }, (_, index) => ({
      key: `k${index}`,
      partition: (index * 7) % 3,
    }));
    const grouped = group({
      topic: 't',
      partitionMetadata: [{}, {}, {}],
      messages,
      partitioner: ({ message }) => message.partition,
    });
    expect(Object.keys(grouped)).toEqual(['0', '1', '2']);
    for (const partition of [0, 1, 2])
      expect(grouped[partition]).toEqual(messages.filter((message) => message.partition === partition));
  });

  it('groups nothing when the topic has no partition metadata', () => {
    expect(
      group({
        topic: 't',
        partitionMetadata: [],
        messages: [{ key: 'a', partition: 0 }],
        partitioner: () => 0,
      }),
    ).toEqual({});
  });
});
