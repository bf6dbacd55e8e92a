/**
 * The codecs of the companion commands, in the formats the configuration names: sample events and labels
 * in (input.format), predictions out (output.format).
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

/**
 * What a producer of `topic` writes with: plain Avro, or the wire format under the id the registry gives
 * the schema (registered as a producer does), as input.format says.
 */
export async function producerEncoder<T>(
  { config }: Runtime,
  topic: string,
  schemaPath: string,
): Promise<RecordEncoder<T>> {
  const type = loadAvroSchema(schemaPath);
  if (config.input.format !== 'confluent') return createAvroCodec<T>(type);
  const registry = openRegistry(config);
  try {
    const id = await registry.register(subjectFor(config, topic, type), JSON.stringify(type.schema()));
    return createConfluentEncoder<T>(type, id);
  } finally {
    registry.close();
  }
}

export function eventEncoder(runtime: Runtime): Promise<RecordEncoder<CardTransaction>> {
  return producerEncoder<CardTransaction>(runtime, runtime.config.input.topic, runtime.config.input.schema);
}

export function predictionDecoder({ config }: Runtime): RecordDecoder<Prediction> {
  const type = loadAvroSchema(config.output.schema);
  return config.output.format === 'confluent'
    ? createConfluentDecoder<Prediction>(type, openRegistry(config))
    : createAvroCodec<Prediction>(type);
}
