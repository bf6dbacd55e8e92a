/**
 * The loops benchmark counts a drain's predictions from the output topic's end offsets instead of reading
 * them (loadtests/lib/output-count.ts): the count must be every record published, on every partition.
 */
import { describe, expect, inject, it } from 'vitest';
import { countOutputs } from '../../loadtests/lib/output-count.js';
import { connectedProducer, createTopics, eventually, testKafka, uniqueName } from '../support/kafka.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers);

describe('counting outputs from end offsets', () => {
  it('adds up what every partition received, as it arrives', async () => {
    const topic = uniqueName('output-count');
    await createTopics(kafka, [topic], 3);
    const additions: number[] = [];
    const counter = await countOutputs(kafka, topic, (added) => additions.push(added));
    const producer = await connectedProducer(kafka);
    try {
      const send = (count: number, partition: number) =>
        producer.send({
          topic,
          acks: -1,
          messages: Array.from({ length: count }, (_, index) => ({ value: String(index), partition })),
        });
      const total = () => additions.reduce((sum, added) => sum + added, 0);
      await send(5, 0);
      expect(await eventually(() => total() === 5, 5_000)).toBe(true);
      await Promise.all([send(7, 1), send(11, 2)]);
      expect(await eventually(() => total() >= 23, 5_000)).toBe(true);
      expect(total()).toBe(23);
      expect(additions.every((added) => added > 0)).toBe(true);
    } finally {
      await producer.disconnect();
      await counter.disconnect();
    }
  });
});
