/** The Avro codecs of the repository's two schemas, as a producer and a prediction consumer use them. */
import { expect } from 'vitest';
import {
  type AvroCodec,
  createAvroCodec,
  loadAvroSchema,
  type RecordDecoder,
} from '../../src/codec/index.js';
import { packagePath } from '../../src/config/index.js';
import { BadRecordError } from '../../src/errors/index.js';
import type { Prediction } from '../../src/routing/index.js';
import type { CardTransaction } from '../../src/sample/index.js';

export const eventCodec: AvroCodec<CardTransaction> = createAvroCodec<CardTransaction>(
  loadAvroSchema(packagePath('schemas/card-transaction.avsc')),
);

export const predictionCodec: AvroCodec<Prediction> = createAvroCodec<Prediction>(
  loadAvroSchema(packagePath('schemas/prediction.avsc')),
);

/** What `decoder` makes of `buffer`: 'decoded', or the code of the BadRecordError it refuses it with. */
export function decodeOutcome(decoder: RecordDecoder<unknown>, buffer: Buffer | null): string {
  try {
    decoder.decode(buffer);
    return 'decoded';
  } catch (error) {
    expect(error).toBeInstanceOf(BadRecordError);
    return (error as BadRecordError).code;
  }
}
