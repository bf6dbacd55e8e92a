/**
 * The codecs of the companion commands, in the formats the configuration names: sample events in
 * (input.format), predictions out (output.format).
 */
import {
  createAvroCodec,
  createConfluentDecoder,
  createConfluentEncoder,
  loadAvroSchema,
  type RecordDecoder,
  type RecordEncoder,
} from '../codec/index.js';
import type { Prediction } from '../routing/index.js';
import type { CardTransaction } from '../sample/index.js';
import { openRegistry, subjectFor } from '../service/index.js';
import type { Runtime } from './runtime.js';

/** Plain Avro, or the wire format under the id the registry gives the schema (registered as a producer does). */
export async function eventEncoder({ config }: Runtime): Promise<RecordEncoder<CardTransaction>> {
  const type = loadAvroSchema(config.input.schema);
  if (config.input.format !== 'confluent') return createAvroCodec<CardTransaction>(type);
  const registry = openRegistry(config);
  try {
    const subject = subjectFor(config, config.input.topic, type);
    const id = await registry.register(subject, JSON.stringify(type.schema()));
    return createConfluentEncoder<CardTransaction>(type, id);
  } finally {
    registry.close();
  }
}

export function predictionDecoder({ config }: Runtime): RecordDecoder<Prediction> {
  const type = loadAvroSchema(config.output.schema);
  return config.output.format === 'confluent'
    ? createConfluentDecoder<Prediction>(type, openRegistry(config))
    : createAvroCodec<Prediction>(type);
}
