/** The Avro codecs of the repository's two schemas, as a producer and a prediction consumer use them. */
import { type AvroCodec, createAvroCodec, loadAvroSchema } from '../../src/codec/index.js';
import { packagePath } from '../../src/config/index.js';
import type { Prediction } from '../../src/routing/index.js';
import type { CardTransaction } from '../../src/sample/index.js';

export const eventCodec: AvroCodec<CardTransaction> = createAvroCodec<CardTransaction>(
  loadAvroSchema(packagePath('schemas/card-transaction.avsc')),
);

export const predictionCodec: AvroCodec<Prediction> = createAvroCodec<Prediction>(
  loadAvroSchema(packagePath('schemas/prediction.avsc')),
);
