/**
 * Dead-letter records: the original key, value and headers, plus where the record came from and why it
 * was set aside. Header names follow Spring Kafka's dead-letter publisher, which DLT tooling already
 * reads; the stable error code rides in its own header. Messages never carry field values.
 */
import type { StreamscoreError } from '../errors/index.js';
import type { InputRecord, OutputRecord, RecordHeaders } from '../kafka/index.js';

export const DeadLetterHeaders = {
  originalTopic: 'kafka_dlt-original-topic',
  originalPartition: 'kafka_dlt-original-partition',
  originalOffset: 'kafka_dlt-original-offset',
  originalTimestamp: 'kafka_dlt-original-timestamp',
  exceptionClass: 'kafka_dlt-exception-fqcn',
  exceptionMessage: 'kafka_dlt-exception-message',
  errorCode: 'streamscore-error-code',
} as const;

export interface RecordOrigin {
  topic: string;
  partition: number;
}

export function toDeadLetter(
  record: InputRecord,
  origin: RecordOrigin,
  error: StreamscoreError,
): OutputRecord {
  const headers: RecordHeaders = {
    ...record.headers,
    [DeadLetterHeaders.originalTopic]: origin.topic,
    [DeadLetterHeaders.originalPartition]: String(origin.partition),
    [DeadLetterHeaders.originalOffset]: record.offset,
    [DeadLetterHeaders.originalTimestamp]: record.timestamp,
    [DeadLetterHeaders.exceptionClass]: error.name,
    [DeadLetterHeaders.exceptionMessage]: error.message,
    [DeadLetterHeaders.errorCode]: error.code,
  };
  return { key: record.key, value: record.value, headers };
}
