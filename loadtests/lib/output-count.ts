/**
 * A drain's progress read from its output topic's end offsets instead of from its records. A reading
 * consumer decodes every prediction on the harness's side of the machine: in a two-loop drain it took
 * 0.35 cores of the 2 the target competes for, polls every 10 ms 0.1 (every 25 ms, less). The topic is
 * fresh and written with acks=all on a single broker, so the sum of its partitions' end offsets is the
 * count of records the target has published, known one poll (POLL_MS) after it is.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka } from 'kafkajs';
import { isRetriableKafkaError } from '../../src/kafka/index.js';

const POLL_MS = 25;

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
      const offsets = await admin.fetchTopicOffsets(topic).catch((error: unknown) => {
        // A busy broker can still be moving a fresh topic's leaders; the next poll asks again.
        if (isRetriableKafkaError(error)) return undefined;
        throw error;
      });
      if (offsets === undefined) {
        await sleep(POLL_MS);
        continue;
      }
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
