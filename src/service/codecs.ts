/**
 * The codecs a process reads and writes with, as input.format and output.format say: plain Avro against
 * the schema files, or the Confluent wire format with a schema registry. The output schemas are registered
 * (or looked up) and the reader schema fetched at start, so a missing subject stops the process with one
 * clear message before the first record.
 */
import type avro from 'avsc';
import {
  createAvroCodec,
  createConfluentDecoder,
  createConfluentEncoder,
  loadAvroSchema,
  parseAvroSchema,
  type RecordDecoder,
  type RecordEncoder,
} from '../codec/index.js';
import type { Config } from '../config/index.js';
import { ConfigurationError } from '../errors/index.js';
import type { DecodedRecord } from '../features/index.js';
import { createRegistryClient, type RegistryClient } from '../registry/index.js';
import { COMPARISON_SCHEMA_PATH, type Comparison, type Prediction } from '../routing/index.js';
import type { Logger } from '../telemetry/index.js';

export interface ServiceCodecs {
  input: RecordDecoder<DecodedRecord>;
  /** Where the reader schema came from, for messages. */
  inputOrigin: string;
  predictions: RecordEncoder<Prediction>;
  comparisons: RecordEncoder<Comparison>;
  close(): void;
}

export const openRegistry = (config: Config): RegistryClient => createRegistryClient(config.registry);

/** The subject a topic's values are registered under. */
export function subjectFor(config: Config, topic: string, type: avro.Type): string {
  return config.registry.subjectStrategy === 'record' ? (type.name ?? topic) : `${topic}-value`;
}

/** Registers the schema (or, with autoRegister off, finds it) under the topic's subject; its id. */
export async function outputSchemaId(
  config: Config,
  registry: RegistryClient,
  topic: string,
  type: avro.Type,
): Promise<number> {
  const subject = subjectFor(config, topic, type);
  const schema = JSON.stringify(type.schema());
  if (config.registry.autoRegister) return registry.register(subject, schema);
  const id = await registry.lookup(subject, schema);
  if (id === undefined) {
    throw new ConfigurationError(
      'SCHEMA_INVALID',
      `the schema of ${topic} is not registered under subject ${subject} and registry.autoRegister is off; ` +
        'register it (streamscore topics create --register-schemas) or turn autoRegister on',
    );
  }
  return id;
}

async function readerSchema(config: Config, registry: RegistryClient | undefined) {
  const { readerSubject, readerVersion, schema } = config.input;
  if (!registry || readerSubject === '') return { type: loadAvroSchema(schema), origin: schema };
  const origin = `registry subject ${readerSubject} version ${readerVersion}`;
  const found = await registry.subjectVersion(readerSubject, readerVersion);
  if (!found) throw new ConfigurationError('SCHEMA_INVALID', `${origin} does not exist`);
  return { type: parseAvroSchema(found.schema, origin), origin: `${origin} (id ${found.id})` };
}

export async function openCodecs(config: Config, logger: Logger): Promise<ServiceCodecs> {
  const usesRegistry = config.input.format === 'confluent' || config.output.format === 'confluent';
  const registry = usesRegistry ? openRegistry(config) : undefined;
  try {
    const reader = await readerSchema(config, registry);
    const input =
      registry && config.input.format === 'confluent'
        ? createConfluentDecoder<DecodedRecord>(reader.type, registry)
        : createAvroCodec<DecodedRecord>(reader.type);
    const predictionType = loadAvroSchema(config.output.schema);
    const comparisonType = loadAvroSchema(COMPARISON_SCHEMA_PATH);
    let predictions: RecordEncoder<Prediction> = createAvroCodec<Prediction>(predictionType);
    let comparisons: RecordEncoder<Comparison> = createAvroCodec<Comparison>(comparisonType);
    if (registry && config.output.format === 'confluent') {
      const { topic } = config.output;
      const { comparisonTopic } = config.experiments;
      // One after the other, so that a missing subject is always reported in the same order.
      const predictionId = await outputSchemaId(config, registry, topic, predictionType);
      const comparisonId = await outputSchemaId(config, registry, comparisonTopic, comparisonType);
      predictions = createConfluentEncoder(predictionType, predictionId);
      comparisons = createConfluentEncoder(comparisonType, comparisonId);
      logger.info({ predictionId, comparisonId }, 'output schemas registered');
    }
    logger.info(
      { input: config.input.format, output: config.output.format, reader: reader.origin },
      'record formats',
    );
    return {
      input,
      inputOrigin: reader.origin,
      predictions,
      comparisons,
      close: () => registry?.close(),
    };
  } catch (error) {
    registry?.close();
    throw error;
  }
}
