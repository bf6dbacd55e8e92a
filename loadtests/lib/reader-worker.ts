/**
 * The worker thread of lib/reader-thread.ts: a kafkajs consumer of one topic from its beginning, in a fresh
 * group, posting each fetched batch packed into one transferred buffer (posting the values themselves would
 * clone the whole fetch response behind each of them).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { harnessKafka, uniqueName } from './broker.js';
import { packBatch, type ReaderMessage, type ReaderSettings } from './reader-thread.js';

const settings = workerData as ReaderSettings;
const port = parentPort!;
const post = (message: ReaderMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

const consumer = harnessKafka(settings.brokers).consumer({
  groupId: uniqueName(settings.groupPrefix),
  allowAutoTopicCreation: false,
});

port.on('message', async (message: { type: 'stop' }) => {
  if (message.type !== 'stop') return;
  await consumer.disconnect().catch(() => undefined);
  post({ type: 'stopped' });
});

try {
  await consumer.connect();
  consumer.on(consumer.events.GROUP_JOIN, () => post({ type: 'joined' }));
  await consumer.subscribe({ topics: [settings.topic], fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const packed = packBatch(batch.messages, performance.timeOrigin + performance.now());
      post(packed, [
        packed.bytes,
        packed.lengths.buffer as ArrayBuffer,
        packed.timestamps.buffer as ArrayBuffer,
      ]);
    },
  });
} catch (error) {
  post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
}
