/** A batch's output as produce requests: grouped by topic, split to sizes the brokers accept. */
import { CompressionTypes, type Message, type TopicMessages } from 'kafkajs';
import type { OutputRecord, TopicRecords } from './records.js';

// Below the brokers' default message.max.bytes (1 MiB) for one produce request, with room for framing.
const MAX_REQUEST_BYTES = 512 * 1024;
const RECORD_OVERHEAD_BYTES = 64;

function approximateSize(record: OutputRecord): number {
  let size = RECORD_OVERHEAD_BYTES + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  const { headers } = record;
  // An array value is counted by its entries, not their bytes: dead letters carry at most a few of them.
  if (headers) for (const name in headers) size += name.length + (headers[name]?.length ?? 0);
  return size;
}

/**
 * The batch's output in requests small enough for the brokers: a fetch of 1 MiB of input can become more
 * than 1 MiB of output (dead letters add headers), and one oversized request would fail forever.
 * Requests go out one after another, so per-partition order holds. Within a request, a topic's records
 * are one entry, in the order given (several batches' outputs share requests: shared-sends.ts).
 */
export function outputRequests(output: readonly TopicRecords[]): TopicMessages[][] {
  const requests: TopicMessages[][] = [];
  let current: TopicMessages[] = [];
  let bytes = 0;
  const messagesFor = (topic: string): Message[] => {
    const entry = current.find((candidate) => candidate.topic === topic);
    if (entry) return entry.messages;
    const messages: Message[] = [];
    current.push({ topic, messages });
    return messages;
  };
  for (const { topic, records } of output) {
    if (records.length === 0) continue;
    let messages = messagesFor(topic);
    for (const record of records) {
      const size = approximateSize(record);
      if (bytes + size > MAX_REQUEST_BYTES && bytes > 0) {
        requests.push(current);
        current = [];
        bytes = 0;
        messages = messagesFor(topic);
      }
      messages.push(record);
      bytes += size;
    }
  }
  if (current.length > 0) requests.push(current);
  return requests;
}

export const compressionOf = (compression: 'none' | 'gzip') =>
  compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;

export const nextOffset = (offset: string): bigint => BigInt(offset) + 1n;
