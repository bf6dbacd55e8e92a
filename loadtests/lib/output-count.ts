/**
 * A drain's progress read from its output topic's end offsets instead of from its records. A reading
 * consumer decodes every prediction on the harness's side of the machine: at a two-loop drain's rate that
 * is a fifth of a core the target competes for on a 2-core machine. The topic is fresh and written with
 * acks=all on a single broker, so the sum of its partitions' end offsets is the count of records the
 * target has published, known one poll (POLL_MS) after it is.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka } from 'kafkajs';

const POLL_MS = 10;

export interface OutputCounter {
  disconnect(): Promise<void>;
}

/** Calls `onOutputs` with the records published since its last call, each time the count grows. */
export async function countOutputs(
  kafka: Kafka,
  topic: string,
  onOutputs: (added: number, receivedAt: number) => void,
): Promise<OutputCounter> {
  const admin = kafka.admin();
  await admin.connect();
  let running = true;
  let counted = 0;
  const polling = (async () => {
    while (running) {
      const offsets = await admin.fetchTopicOffsets(topic);
      const receivedAt = performance.now();
      const total = offsets.reduce((sum, { high }) => sum + Number(high), 0);
      if (total > counted) {
        onOutputs(total - counted, receivedAt);
        counted = total;
      }
      await sleep(POLL_MS);
    }
  })();
  return {
    async disconnect() {
      running = false;
      await polling.catch(() => undefined);
      await admin.disconnect();
    },
  };
}
