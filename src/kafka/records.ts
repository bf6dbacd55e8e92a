/**
 * Records in streamscore's own types. The rest of the service reads and writes these; only this folder
 * knows which Kafka client carries them. A consumed record is the client's object itself (its shape is a
 * superset of these fields), so nothing is copied on the way in.
 */

export type HeaderValue = Buffer | string;
export type RecordHeaders = Readonly<Record<string, HeaderValue | HeaderValue[] | undefined>>;

/** A record as consumed from a partition. */
export interface InputRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: RecordHeaders | undefined;
  /** Offset in its partition, as a decimal string (offsets are 64-bit). */
  readonly offset: string;
  /** CreateTime or LogAppendTime in epoch milliseconds, as a decimal string. */
  readonly timestamp: string;
}

/** A record to publish; the default partitioner places it by key. */
export interface OutputRecord {
  key: Buffer | string | null;
  /** Null only where a consumed null value is passed on as it came (a dead-lettered tombstone). */
  value: Buffer | null;
  headers?: RecordHeaders;
}

/** One destination's share of a batch's output. */
export interface TopicRecords {
  topic: string;
  records: OutputRecord[];
}
