export {
  type AssignedMember,
  assignWholeProcesses,
  inputGroupAssigners,
  type ProcessMembership,
  WHOLE_PROCESS_ASSIGNER,
} from './assigner.js';
export type { KafkaSettings } from './client.js';
export {
  connectPublisher,
  type Follower,
  type FollowOptions,
  followTopic,
  type Publisher,
} from './companions.js';
export { type ControlRecord, type ControlTopic, openControlTopic } from './control.js';
export { createDelivery, type DeliveredBatch, type Delivery, type DeliveryOptions } from './delivery.js';
export { type FollowSinceOptions, followTopicSince, type SinceFollower } from './follow-since.js';
export {
  type Backpressure,
  type BatchControl,
  type BatchLoop,
  type BatchOutcome,
  type ConsumedBatch,
  createGroupMember,
  type GroupMember,
  type GroupMemberOptions,
  type Ownership,
} from './group.js';
export type { HeaderValue, InputRecord, OutputRecord, RecordHeaders, TopicRecords } from './records.js';
export { isProgrammingError, isRetriableKafkaError, type RetryOptions, retryUntilDone } from './retry.js';
export { readTopicRange, type TopicRange } from './topic-range.js';
export {
  createMissingTopics,
  createTopicsWithLeaders,
  ensureControlTopic,
  fetchTopicEnds,
  requireTopics,
  type TopicSpec,
  waitForLeaders,
} from './topics.js';
