export { createKafkaClient, createProducer } from './client.js';
export {
  type Backpressure,
  type BatchControl,
  type ConsumedBatch,
  type ConsumeOptions,
  consumeBatches,
} from './consume.js';
export {
  createAtLeastOnceDelivery,
  createExactlyOnceDelivery,
  type DeliveredBatch,
  type Delivery,
  type DeliveryOptions,
  lostOwnership,
} from './delivery.js';
export { type RetryOptions, retryUntilDone } from './retry.js';
export { createMissingTopics, requireTopics, type TopicSpec } from './topics.js';
