/** Kafka clients for the companion commands, built like the service's. */
import { randomUUID } from 'node:crypto';
import type { Consumer, Producer } from 'kafkajs';
import { type AvroCodec, createAvroCodec, loadAvroSchema } from '../codec/index.js';
import { createKafkaClient, createProducer } from '../kafka/index.js';
import type { Prediction } from '../routing/index.js';
import type { CardTransaction } from '../sample/index.js';
import type { Runtime } from './runtime.js';

export function eventCodec({ config }: Runtime): AvroCodec<CardTransaction> {
  return createAvroCodec<CardTransaction>(loadAvroSchema(config.input.schema));
}

export function predictionCodec({ config }: Runtime): AvroCodec<Prediction> {
  return createAvroCodec<Prediction>(loadAvroSchema(config.output.schema));
}

export async function connectProducer({ config, logger }: Runtime, role: string): Promise<Producer> {
  const producer = createProducer(createKafkaClient(config.kafka, logger, role));
  await producer.connect();
  return producer;
}

/** A consumer in a group of its own, so reading predictions never takes partitions from anyone. */
export async function connectTailConsumer({ config, logger }: Runtime): Promise<Consumer> {
  const consumer = createKafkaClient(config.kafka, logger, 'tail').consumer({
    groupId: `streamscore-tail-${randomUUID()}`,
    allowAutoTopicCreation: false,
  });
  await consumer.connect();
  return consumer;
}
