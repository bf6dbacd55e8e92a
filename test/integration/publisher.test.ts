/**
 * The companion commands' publisher (streamscore produce, demo) sends what it is given whatever its size:
 * the brokers refuse a record batch over message.max.bytes (1 MiB by default) for good, so several MiB
 * for one partition must go out as several requests, in order.
 */
import { describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { connectPublisher } from '../../src/kafka/index.js';
import { createLogger } from '../../src/telemetry/index.js';
import { createTopics, readRecords, testKafka, uniqueName } from '../support/kafka.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers);

describe('connectPublisher', () => {
  it('publishes 3 MiB for one partition in one call, every record in order', async () => {
    const topic = uniqueName('publisher-large');
    await createTopics(kafka, [topic], 3);
    const config = loadConfig({ env: {}, overrides: { kafka: { brokers }, log: { level: 'warn' } } });
    const publisher = await connectPublisher(config.kafka, createLogger(config.log), 'producer');
    const count = 3_000;
    const records = Array.from({ length: count }, (_, index) => ({
      key: Buffer.from('one-account'),
      value: Buffer.alloc(1024, index % 251),
      headers: { sequence: String(index) },
    }));
    try {
      await publisher.publish(topic, records);
    } finally {
      await publisher.disconnect();
    }
    const read = await readRecords(kafka, topic, count, 30_000);
    expect(new Set(read.map(({ partition }) => partition)).size).toBe(1);
    expect(read.map(({ message }) => Number(message.headers?.sequence?.toString()))).toEqual(
      records.map((_, index) => index),
    );
    expect(read.every(({ message }, index) => message.value?.equals(records[index]!.value))).toBe(true);
  });
});
