/** The codecs of the companion commands: sample events in, predictions out. */
import { type AvroCodec, createAvroCodec, loadAvroSchema } from '../codec/index.js';
import type { Prediction } from '../routing/index.js';
import type { CardTransaction } from '../sample/index.js';
import type { Runtime } from './runtime.js';

export function eventCodec({ config }: Runtime): AvroCodec<CardTransaction> {
  return createAvroCodec<CardTransaction>(loadAvroSchema(config.input.schema));
}

export function predictionCodec({ config }: Runtime): AvroCodec<Prediction> {
  return createAvroCodec<Prediction>(loadAvroSchema(config.output.schema));
}
