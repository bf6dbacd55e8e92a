/**
 * One produce request for the output of every batch that is ready while another is on its way. kafkajs's
 * idempotent producer holds a lock per broker for the whole round trip of a request, so the partition
 * batches of one fetch, handled side by side, would otherwise publish one round trip after another, each
 * request with a few records. A send goes out at once when none is in flight (after the batches ready in
 * the same turn of the event loop have joined it); what arrives meanwhile goes out together in the next.
 * Batches of one input partition never share a request: the next is delivered only after the last is
 * acknowledged, so per-key order holds as it did with a request per batch.
 */
import type { TopicMessages } from 'kafkajs';
import { outputRequests } from './output.js';
import type { TopicRecords } from './records.js';

export interface SharedSends {
  /** Resolves once every record of `output` is acknowledged; rejects with the failure of its request. */
  send(output: readonly TopicRecords[]): Promise<void>;
}

interface Waiting {
  output: readonly TopicRecords[];
  resolve(): void;
  reject(error: unknown): void;
}

/** `sendRequest` sends one request's worth (./output.ts sizes them) and resolves once acknowledged. */
export function createSharedSends(
  sendRequest: (topicMessages: TopicMessages[]) => Promise<void>,
): SharedSends {
  let waiting: Waiting[] = [];
  let sending = false;

  const sendWaiting = async () => {
    while (waiting.length > 0) {
      const taken = waiting;
      waiting = [];
      try {
        for (const topicMessages of outputRequests(taken.flatMap(({ output }) => output))) {
          await sendRequest(topicMessages);
        }
        for (const entry of taken) entry.resolve();
      } catch (error) {
        // Each batch retries its own output (delivery.ts); records of it already acknowledged are sent again.
        for (const entry of taken) entry.reject(error);
      }
    }
    sending = false;
  };

  return {
    send(output) {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ output, resolve, reject });
        if (sending) return;
        sending = true;
        setImmediate(sendWaiting);
      });
    },
  };
}
