/**
 * Every error streamscore raises on purpose, in one place. Each code carries the decision the pipeline
 * takes: a bad record is set aside (dead-lettered, with the code as its reason) and its partition keeps
 * flowing; an infrastructure failure is retried and never blamed on the record; a configuration error
 * stops the process at start.
 */

export type ErrorDisposition = 'bad-record' | 'infrastructure' | 'configuration';

export const ErrorCodes = {
  // The record itself cannot be scored.
  RECORD_EMPTY: 'bad-record',
  RECORD_TRUNCATED: 'bad-record',
  RECORD_TRAILING_BYTES: 'bad-record',
  RECORD_UNDECODABLE: 'bad-record',
  FEATURE_MISSING: 'bad-record',
  FEATURE_NOT_FINITE: 'bad-record',
  FEATURE_WRONG_TYPE: 'bad-record',
  /**
   * The model raised an error on this record alone, in an inference call holding no other record, while it
   * still scored its warm-up row (src/inference/isolation.ts).
   */
  INFERENCE_RECORD_FAILED: 'bad-record',
  /** Confluent wire format: the first byte is not the format's magic byte 0. */
  SCHEMA_MAGIC_BYTE: 'bad-record',
  /** Confluent wire format: the schema registry has no schema under the record's id. */
  SCHEMA_NOT_FOUND: 'bad-record',
  /** The record's writer schema cannot be resolved to the reader schema the features are compiled for. */
  SCHEMA_INCOMPATIBLE: 'bad-record',
  // Something around the record failed; the record is fine.
  KAFKA_UNAVAILABLE: 'infrastructure',
  /** A worker died or a model was not loaded: retried, never blamed on a record. */
  INFERENCE_FAILED: 'infrastructure',
  /**
   * onnxruntime raised an error on an inference call (its message included): the batch's rows are retried
   * alone to find the records to blame; thrown when even the warm-up row fails (model or runtime broken).
   */
  INFERENCE_RUN_FAILED: 'infrastructure',
  SHUTTING_DOWN: 'infrastructure',
  /** The schema registry did not answer, or answered with an error other than "not found". */
  REGISTRY_UNAVAILABLE: 'infrastructure',
  // The service cannot start as configured.
  CONFIG_INVALID: 'configuration',
  SCHEMA_INVALID: 'configuration',
  MODEL_MANIFEST_INVALID: 'configuration',
  MODEL_CHECKSUM_MISMATCH: 'configuration',
  /** The ONNX graph's inputs or output differ from what the manifest declares. */
  MODEL_SIGNATURE_MISMATCH: 'configuration',
  /** model.publicKeyFile is set and manifest.json.sig is missing or does not verify: a version nobody signed. */
  MANIFEST_SIGNATURE_INVALID: 'configuration',
  TOPIC_MISSING: 'configuration',
  /**
   * The brokers and this process could not authenticate each other: SASL credentials refused, a broker
   * certificate no trusted CA signed or naming another host, a client certificate refused.
   */
  KAFKA_AUTHENTICATION_FAILED: 'configuration',
  /** A deployment decision that cannot be taken (no version to roll back to, no such challenger). */
  DECISION_REFUSED: 'configuration',
} as const satisfies Record<string, ErrorDisposition>;

export type ErrorCode = keyof typeof ErrorCodes;

export class StreamscoreError extends Error {
  readonly code: ErrorCode;
  readonly disposition: ErrorDisposition;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StreamscoreError';
    this.code = code;
    this.disposition = ErrorCodes[code];
  }
}

/** A record that can never be scored, whatever is retried. Messages never quote field values. */
export class BadRecordError extends StreamscoreError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'BadRecordError';
  }
}

export class ConfigurationError extends StreamscoreError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ConfigurationError';
  }
}

export function isBadRecord(error: unknown): error is BadRecordError {
  return error instanceof StreamscoreError && error.disposition === 'bad-record';
}

/** Rebuilds an error that crossed a thread boundary as a plain code and message. */
export function errorFromCode(code: string, message: string): StreamscoreError {
  const known = (code in ErrorCodes ? code : 'INFERENCE_FAILED') as ErrorCode;
  switch (ErrorCodes[known]) {
    case 'bad-record':
      return new BadRecordError(known, message);
    case 'configuration':
      return new ConfigurationError(known, message);
    default:
      return new StreamscoreError(known, message);
  }
}
