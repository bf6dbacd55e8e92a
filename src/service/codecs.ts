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
  type PrefixedEncoder,
  parseAvroSchema,
  type RecordDecoder,
  type RecordEncoder,
} from '../codec/index.js';
import type { Config } from '../config/index.js';
import { ConfigurationError } from '../errors/index.js';
import type { DecodedRecord } from '../features/index.js';
import {
  type GroundTruthLabel,
  LABEL_SCHEMA_PATH,
  MONITORING_EVENT_SCHEMA_PATH,
  type MonitoringEvent,
} from '../monitoring/index.js';
import { createRegistryClient, type RegistryClient } from '../registry/index.js';
import {
  ALERT_SCHEMA_PATH,
  type Alert,
  COMPARISON_SCHEMA_PATH,
  type Comparison,
  type Prediction,
} from '../routing/index.js';
import type { Logger } from '../telemetry/index.js';

export interface ServiceCodecs {
  input: RecordDecoder<DecodedRecord>;
  /** Where the reader schema came from, for messages. */
  inputOrigin: string;
  predictions: RecordEncoder<Prediction>;
  /** Its prefix frames the comparisons routing/comparisons.ts writes field by field. */
  comparisons: PrefixedEncoder<Comparison>;
  /** Undefined unless monitoring.alerts is on. */
  alerts: RecordEncoder<Alert> | undefined;
  /** Undefined unless monitoring.drift is on or monitoring.labelsTopic set. */
  monitoring: RecordEncoder<MonitoringEvent> | undefined;
  /** What the ground-truth join reads, as output.format and input.format say; undefined without labels. */
  groundTruth:
    | { predictions: RecordDecoder<Prediction>; labels: RecordDecoder<GroundTruthLabel> }
    | undefined;
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

async function inputDecoder(config: Config, registry: RegistryClient | undefined) {
  const reader = await readerSchema(config, registry);
  const decoder =
    registry && config.input.format === 'confluent'
      ? createConfluentDecoder<DecodedRecord>(reader.type, registry)
      : createAvroCodec<DecodedRecord>(reader.type);
  return { decoder, origin: reader.origin };
}

function decoderFor<T>(
  registry: RegistryClient | undefined,
  schemaPath: string,
  format: 'avro' | 'confluent',
): RecordDecoder<T> {
  const type = loadAvroSchema(schemaPath);
  return registry && format === 'confluent'
    ? createConfluentDecoder<T>(type, registry)
    : createAvroCodec<T>(type);
}

/** What a command reading the input side needs: events decoded as serve decodes them, and labels. */
export interface InputReaders {
  input: RecordDecoder<DecodedRecord>;
  labels: RecordDecoder<GroundTruthLabel>;
  close(): void;
}

/** The input-side decoders alone: no output schema is registered or looked up. */
export async function openInputReaders(config: Config): Promise<InputReaders> {
  const registry = config.input.format === 'confluent' ? openRegistry(config) : undefined;
  try {
    const { decoder } = await inputDecoder(config, registry);
    return {
      input: decoder,
      labels: decoderFor<GroundTruthLabel>(registry, LABEL_SCHEMA_PATH, config.input.format),
      close: () => registry?.close(),
    };
  } catch (error) {
    registry?.close();
    throw error;
  }
}

export async function openCodecs(config: Config, logger: Logger): Promise<ServiceCodecs> {
  const usesRegistry = config.input.format === 'confluent' || config.output.format === 'confluent';
  const registry = usesRegistry ? openRegistry(config) : undefined;
  try {
    const reader = await inputDecoder(config, registry);
    const input = reader.decoder;
    const wireFormat = registry && config.output.format === 'confluent' ? registry : undefined;
    const ids: Record<string, number> = {};
    // One after the other, so that a missing subject is always reported in the same order.
    const encoderFor = async <T>(
      topic: string,
      schemaPath: string,
      name: string,
    ): Promise<PrefixedEncoder<T>> => {
      const type = loadAvroSchema(schemaPath);
      if (!wireFormat) return createAvroCodec<T>(type);
      const id = await outputSchemaId(config, wireFormat, topic, type);
      ids[`${name}Id`] = id;
      return createConfluentEncoder(type, id);
    };
    const predictions = await encoderFor<Prediction>(config.output.topic, config.output.schema, 'prediction');
    const comparisons = await encoderFor<Comparison>(
      config.experiments.comparisonTopic,
      COMPARISON_SCHEMA_PATH,
      'comparison',
    );
    const alerts = config.monitoring.alerts
      ? await encoderFor<Alert>(config.monitoring.alertsTopic, ALERT_SCHEMA_PATH, 'alert')
      : undefined;
    const { monitoring: settings } = config;
    const monitoring =
      settings.drift || settings.labelsTopic !== ''
        ? await encoderFor<MonitoringEvent>(settings.topic, MONITORING_EVENT_SCHEMA_PATH, 'monitoring')
        : undefined;
    if (wireFormat) logger.info(ids, 'output schemas registered');
    const groundTruth =
      settings.labelsTopic === ''
        ? undefined
        : {
            predictions: decoderFor<Prediction>(registry, config.output.schema, config.output.format),
            labels: decoderFor<GroundTruthLabel>(registry, LABEL_SCHEMA_PATH, config.input.format),
          };
    logger.info(
      { input: config.input.format, output: config.output.format, reader: reader.origin },
      'record formats',
    );
    return {
      input,
      inputOrigin: reader.origin,
      predictions,
      comparisons,
      alerts,
      monitoring,
      groundTruth,
      close: () => registry?.close(),
    };
  } catch (error) {
    registry?.close();
    throw error;
  }
}
