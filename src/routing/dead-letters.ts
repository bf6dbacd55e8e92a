/**
 * Dead-letter records: the original key, value and headers, plus where the record came from and why it
 * was set aside. Header names follow Spring Kafka's dead-letter publisher, which DLT tooling already
 * reads; the stable error code rides in its own header. Messages never carry field values.
 */
import type { StreamscoreError } from '../errors/index.js';
import type { HeaderValue, InputRecord, OutputRecord, RecordHeaders } from '../kafka/index.js';

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

/** Set on a record published again from a dead-letter topic: `<topic>/<partition>/<offset>` it came from. */
export const REPLAYED_FROM_HEADER = 'streamscore-replayed-from';

/** What a dead letter says of itself. */
export interface DeadLetterOrigin {
  topic: string;
  partition: number;
  offset: string;
  code: string;
  /** The error's message (never field values); absent when the record does not carry one. */
  message: string | undefined;
}

const DEAD_LETTER_HEADER_NAMES: ReadonlySet<string> = new Set(Object.values(DeadLetterHeaders));

const headerText = (value: RecordHeaders[string]): string | undefined => {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
};

/**
 * Where a dead letter came from and why, from its headers; null for a record that lacks the original topic,
 * partition, offset or error code (not a dead letter of streamscore's, or one whose headers were lost).
 */
export function readDeadLetter(record: InputRecord): DeadLetterOrigin | null {
  const header = (name: string) => headerText(record.headers?.[name]);
  const topic = header(DeadLetterHeaders.originalTopic);
  const partition = Number(header(DeadLetterHeaders.originalPartition));
  const offset = header(DeadLetterHeaders.originalOffset);
  const code = header(DeadLetterHeaders.errorCode);
  if (!topic || !Number.isInteger(partition) || !offset || !code) return null;
  return { topic, partition, offset, code, message: header(DeadLetterHeaders.exceptionMessage) };
}

/**
 * The original record again, to publish to its topic: its key, value and own headers, without the ones
 * the dead-letter topic added, and with `streamscore-replayed-from` naming the dead letter (replacing an
 * earlier one, so a record that fails again names its latest dead letter).
 */
export function fromDeadLetter(record: InputRecord, from: RecordOrigin): OutputRecord {
  const headers: Record<string, HeaderValue | HeaderValue[] | undefined> = {};
  for (const [name, value] of Object.entries(record.headers ?? {})) {
    if (!DEAD_LETTER_HEADER_NAMES.has(name)) headers[name] = value;
  }
  headers[REPLAYED_FROM_HEADER] = `${from.topic}/${from.partition}/${record.offset}`;
  return { key: record.key, value: record.value, headers };
}
