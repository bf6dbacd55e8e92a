/**
 * Benchmark target: the floor under the service. The same consumer loop, producer and settings as the
 * service, republishing each batch's records unchanged (no decode, no model, no encode), so the
 * difference to the full service is the cost of scoring.
 */
import type { Message } from 'kafkajs';
import { consumeBatches, createKafkaClient, createProducer } from '../../src/kafka/index.js';
import { createLogger } from '../../src/telemetry/index.js';
import { runTarget } from './child.js';
import { serviceConfig } from './target-config.js';

await runTarget(async (target) => {
  const config = serviceConfig(target, 'bench-bare-pipe');
  const kafka = createKafkaClient(config.kafka, createLogger(config.log));
  const producer = createProducer(kafka);
  const consumer = kafka.consumer({
    groupId: config.input.groupId,
    allowAutoTopicCreation: false,
    sessionTimeout: config.input.sessionTimeoutMs,
    maxBytesPerPartition: config.input.maxBytesPerPartition,
  });
  let outputs = 0;
  await producer.connect();
  await consumer.connect();
  await consumeBatches(consumer, {
    topic: config.input.topic,
    fromBeginning: config.input.fromBeginning,
    partitionsConsumedConcurrently: config.input.partitionsConsumedConcurrently,
    handleBatch: async (batch) => {
      const messages: Message[] = batch.messages.map(({ key, value }) => ({ key, value }));
      await producer.send({ topic: config.output.topic, messages, acks: -1 });
      outputs += messages.length;
    },
  });
  return {
    outputs: () => outputs,
    stop: async () => {
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
});
