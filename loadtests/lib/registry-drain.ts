/**
 * The full service draining the same backlog in both formats, in alternating rounds of one run: plain Avro
 * in and out, and the Confluent wire format in and out with the writer schema fetched from a real schema
 * registry (the predictions' schema registered there at start). The two backlogs hold the same events,
 * the wire-format one under a schema id registered for its topic. Each drain is lib/scenarios.ts's
 * drainCapacity against the service target (targets/service.ts) with the format set, so the two formats
 * differ in nothing else.
 */
import { readFileSync } from 'node:fs';
import { parseAvroSchema } from '../../src/codec/index.js';
import { packagePath } from '../../src/config/index.js';
import { createTopics, deleteTopics, uniqueName } from './broker.js';
import { createEventSource, eventCodec } from './events.js';
import { registerSchema, schemaById } from './registry-server.js';
import { eventEncoder, FORMAT_LABELS, RECORD_FORMATS, schemaIdIn } from './registry-wire.js';
import { alternate, drainOutcome, loadAverage } from './rounds.js';
import { type BenchContext, type DrainRun, drainCapacity, publishBacklog } from './scenarios.js';
import type { RecordFormat } from './targets.js';

/**
 * Rounds of each format: 6 in full (the goal is a 5% difference on a noisy machine; an even number lets each
 * format go first as often), 1 with --quick.
 */
export const drainRounds = (quick: boolean) => (quick ? 1 : 6);

export interface FormatDrain {
  format: RecordFormat;
  round: number;
  /** The machine's 1-minute load average when the drain started. */
  loadAverage: number;
  /**
   * The registry id in the first prediction's header; null when the prediction was plain Avro. A check
   * that each run wrote what it was configured to write.
   */
  outputSchemaId: number | null;
  drain: DrainRun;
}

export interface FormatBacklog {
  format: RecordFormat;
  topic: string;
  /** Mean bytes of a record's value. */
  meanValueBytes: number;
  /** The schema id in the wire-format records' headers. */
  schemaId?: number;
  /** Subject the schema id was registered under (`<topic>-value`). */
  subject?: string;
  /**
   * The schema the registry returns for that id equals the service's reader schema, so the service decodes
   * without a resolver (the decoder's 'same' path).
   */
  writerEqualsReader?: boolean;
}

export interface FormatDrains {
  backlogs: FormatBacklog[];
  drains: FormatDrain[];
}

/** The event schema as its file has it: what a producer registers. */
const EVENT_SCHEMA_TEXT = readFileSync(packagePath('schemas/card-transaction.avsc'), 'utf8');

/**
 * A fresh topic holding `count` events in `format`; for the wire format, the event schema registered under
 * `<topic>-value` first (added to `subjects`) and its id in every record's header.
 */
async function publishFormatBacklog(
  context: BenchContext,
  format: RecordFormat,
  registryUrl: string,
  subjects: string[],
  topics: string[],
): Promise<FormatBacklog> {
  const { kafka, options } = context;
  const count = options.drainBacklog;
  const topic = uniqueName(`registry-backlog-${format}`);
  topics.push(topic, `${topic}.DLT`);
  await createTopics(kafka, [topic, `${topic}.DLT`], options.partitions);
  let wire: Pick<FormatBacklog, 'schemaId' | 'subject' | 'writerEqualsReader'> = {};
  if (format === 'confluent') {
    const subject = `${topic}-value`;
    const schemaId = await registerSchema(registryUrl, subject, EVENT_SCHEMA_TEXT);
    subjects.push(subject);
    // The decoder reads a writer schema equal to the reader without a resolver: say whether it will.
    const writer = parseAvroSchema(await schemaById(registryUrl, schemaId), `schema ${schemaId}`);
    wire = { schemaId, subject, writerEqualsReader: writer.equals(eventCodec.type) };
  }
  const bytes = await publishBacklog(kafka, topic, createEventSource('unique'), count, {
    encode: eventEncoder(wire.schemaId),
  });
  process.stderr.write(
    `  published ${count} events, ${FORMAT_LABELS[format]}${wire.schemaId === undefined ? '' : ` (schema id ${wire.schemaId})`}, to ${topic}\n`,
  );
  return { format, topic, meanValueBytes: bytes / count, ...wire };
}

/**
 * The service in `format` drains `backlog.topic`. A wire-format service registers its output subjects at
 * start (registry.autoRegister, TopicNameStrategy): they are added to `subjects` before it starts.
 */
async function drainInFormat(
  context: BenchContext,
  backlog: FormatBacklog,
  round: number,
  registryUrl: string,
  subjects: string[],
): Promise<FormatDrain> {
  const { format } = backlog;
  const startLoad = loadAverage();
  let outputSchemaId = null as number | null;
  const drain = await drainCapacity(
    context,
    'service',
    backlog.topic,
    context.options.drainBacklog,
    'unique',
    {
      format,
      ...(format === 'confluent'
        ? {
            registryUrl,
            onOutputTopics: ({ predictions }) =>
              subjects.push(`${predictions}-value`, `${predictions}.comparisons-value`),
          }
        : {}),
      onFirstOutput: (value) => {
        outputSchemaId = schemaIdIn(value);
      },
    },
  );
  process.stderr.write(`  ${FORMAT_LABELS[format]}, round ${round}: ${drainOutcome(drain)}\n`);
  const wrote = outputSchemaId === null ? 'avro' : 'confluent';
  if (drain.outputs > 0 && wrote !== format) {
    process.stderr.write(`  warning: the ${format} service published ${wrote} predictions\n`);
  }
  return { format, round, loadAverage: startLoad, outputSchemaId, drain };
}

/**
 * Publishes the same `options.drainBacklog` events twice, plain and in the wire format, then drains each
 * `rounds` times, plain Avro first in odd rounds. Every subject registered on the way (the backlog's, the
 * service's output subjects) is added to `subjects` as it is, so that the caller can remove them however
 * the run ends.
 */
export async function alternatingFormatDrains(
  context: BenchContext,
  rounds: number,
  registryUrl: string,
  subjects: string[],
): Promise<FormatDrains> {
  const backlogs: FormatBacklog[] = [];
  const drains: FormatDrain[] = [];
  const topics: string[] = [];
  try {
    for (const format of RECORD_FORMATS) {
      backlogs.push(await publishFormatBacklog(context, format, registryUrl, subjects, topics));
    }
    for (let round = 1; round <= rounds; round++) {
      for (const backlog of alternate(round, [backlogs[0]!, backlogs[1]!])) {
        drains.push(await drainInFormat(context, backlog, round, registryUrl, subjects));
      }
    }
  } finally {
    await deleteTopics(context.kafka, topics);
  }
  return { backlogs, drains };
}
