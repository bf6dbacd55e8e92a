/**
 * Traces across Kafka, in OpenTelemetry's messaging conventions. Each partition batch is a CONSUMER span
 * `process <topic>`, linked to the span contexts its records were produced in, with child spans for
 * decode, batch wait, inference and publish. A record that arrives with a sampled W3C traceparent also
 * gets a span of its own in the producer's trace (linked to the batch span), and its prediction carries
 * that span's traceparent, so the trace goes on from the producer to whoever reads the predictions.
 * Records without one carry the batch span's. Child spans are written after the fact from the batch's
 * timings, so nothing in the pipeline waits on the tracer.
 */
import {
  type Attributes,
  type Context,
  isSpanContextValid,
  type Link,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/** performance.now() instants of one partition batch's stages. */
export interface BatchTiming {
  fetchedAt: number;
  decodedAt: number;
  inferenceQueuedAt: number;
  inferenceStartedAt: number | undefined;
  inferenceEndedAt: number;
  publishStartedAt: number;
  publishedAt: number;
}

type HeaderValue = Buffer | string;

/** What tracing reads of a consumed record (structurally the kafka folder's InputRecord). */
export interface TracedRecord {
  readonly headers?: Readonly<Record<string, HeaderValue | HeaderValue[] | undefined>> | undefined;
  readonly offset: string;
}

export interface BatchTraceInfo {
  topic: string;
  partition: number;
  groupId: string;
  records: readonly TracedRecord[];
  outputTopic: string;
}

export interface BatchSpan {
  /** The traceparent to put on the output record made from `record`; undefined when not traced. */
  traceparentFor(record: TracedRecord): HeaderValue | undefined;
  end(timing: BatchTiming, model: { name: string; version: string; rows: number }): void;
  fail(error: unknown): void;
}

// The SDK keeps 128 links per span by default; parsing more headers would be wasted work.
const MAX_LINKS = 128;
const TRACEPARENT = 'traceparent';
const propagator = new W3CTraceContextPropagator();

/** The traceparent as the producer sent it. W3C names the header in lower case, which is tried first. */
function rawTraceparent(headers: TracedRecord['headers']): HeaderValue | undefined {
  if (!headers) return undefined;
  let value = headers[TRACEPARENT];
  if (value === undefined) {
    // A loop over the names, not Object.keys: most records carry no headers, and this runs for each one.
    for (const name in headers) {
      if (name.length === TRACEPARENT.length && name.toLowerCase() === TRACEPARENT) {
        value = headers[name];
        break;
      }
    }
    if (value === undefined) return undefined;
  }
  return Array.isArray(value) ? value[0] : value;
}

// version-traceid-parentid-flags: dashes at 2, 35 and 52, the sampled bit in the last hex digit at 54.
const DASH = 0x2d;
const charAt = (value: HeaderValue, index: number) =>
  typeof value === 'string' ? value.charCodeAt(index) : (value[index] ?? 0);
const isHexDigit = (code: number) => (code >= 0x30 && code <= 0x39) || (code >= 0x61 && code <= 0x66);

const MALFORMED = 0;
const UNSAMPLED = 1;
const SAMPLED = 2;
type Shape = typeof MALFORMED | typeof UNSAMPLED | typeof SAMPLED;

/**
 * Whether a traceparent is shaped like one and has its sampled flag, read from the bytes: most records of
 * a traced stream are not sampled, and those only need their header passed on, not parsed into a context.
 */
function shapeOf(value: HeaderValue): Shape {
  const flagsDigit = charAt(value, 54);
  const wellFormed =
    value.length >= 55 &&
    charAt(value, 2) === DASH &&
    charAt(value, 35) === DASH &&
    charAt(value, 52) === DASH &&
    isHexDigit(flagsDigit);
  if (!wellFormed) return MALFORMED;
  // Hex digits with the low bit set are odd: '1', '3', ..., 'b', 'd', 'f' (0x61 is 'a', an even 10).
  const digit = flagsDigit <= 0x39 ? flagsDigit - 0x30 : flagsDigit - 0x57;
  return (digit & 1) === 1 ? SAMPLED : UNSAMPLED;
}

const headerGetter: TextMapGetter<Record<string, string>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

/** The producer's context, for a sampled traceparent that passes the propagator's full validation. */
function sampledProducerContext(value: HeaderValue): Context | undefined {
  const extracted = propagator.extract(ROOT_CONTEXT, { [TRACEPARENT]: value.toString() }, headerGetter);
  return trace.getSpanContext(extracted) ? extracted : undefined;
}

function traceparentOf(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-0${traceFlags.toString(16)}`;
}

const epochMs = (instant: number) => performance.timeOrigin + instant;

export function startBatchSpan(tracer: Tracer, info: BatchTraceInfo, fetchedAt: number): BatchSpan {
  const messaging: Attributes = {
    'messaging.system': 'kafka',
    'messaging.operation.name': 'process',
    'messaging.operation.type': 'process',
    'messaging.destination.name': info.topic,
    'messaging.destination.partition.id': String(info.partition),
    'messaging.consumer.group.name': info.groupId,
  };
  const links: Link[] = [];
  const producers = new Map<TracedRecord, Context>();
  let passedOn = 0;
  for (const record of info.records) {
    const raw = rawTraceparent(record.headers);
    if (raw === undefined) continue;
    const shape = shapeOf(raw);
    if (shape !== MALFORMED) passedOn += 1;
    if (shape !== SAMPLED) continue;
    const parent = sampledProducerContext(raw);
    if (!parent) continue;
    producers.set(record, parent);
    if (links.length < MAX_LINKS) links.push({ context: trace.getSpanContext(parent)! });
  }
  const batchSpan = tracer.startSpan(
    `process ${info.topic}`,
    {
      kind: SpanKind.CONSUMER,
      startTime: epochMs(fetchedAt),
      links,
      attributes: { ...messaging, 'messaging.batch.message_count': info.records.length },
    },
    ROOT_CONTEXT,
  );
  const batchContext = trace.setSpan(ROOT_CONTEXT, batchSpan);
  const batchTraceparent = batchSpan.isRecording() ? traceparentOf(batchSpan) : undefined;
  const recordSpans: Span[] = [];
  // A no-op tracer (telemetry off) hands out spans without a valid context, and never a recording one: a
  // record's output then carries the producer's traceparent as it came, or nothing, with no span started.
  const tracing = isSpanContextValid(batchSpan.spanContext());

  const child = (
    name: string,
    start: number,
    end: number,
    attributes: Attributes,
    kind = SpanKind.INTERNAL,
  ) => {
    tracer.startSpan(name, { kind, startTime: epochMs(start), attributes }, batchContext).end(epochMs(end));
  };

  return {
    traceparentFor(record) {
      if (!tracing && passedOn === 0) return undefined;
      const parent = tracing ? producers.get(record) : undefined;
      if (!parent) {
        // An unsampled producer trace is passed on as it came: no span, no parsing, no cost.
        const raw = rawTraceparent(record.headers);
        return raw !== undefined && shapeOf(raw) !== MALFORMED ? raw : batchTraceparent;
      }
      const span = tracer.startSpan(
        `process ${info.topic}`,
        {
          kind: SpanKind.CONSUMER,
          startTime: epochMs(fetchedAt),
          links: [{ context: batchSpan.spanContext() }],
          attributes: { ...messaging, 'messaging.kafka.offset': Number(record.offset) },
        },
        parent,
      );
      if (!span.isRecording()) return rawTraceparent(record.headers);
      recordSpans.push(span);
      return traceparentOf(span);
    },

    end(timing, model) {
      if (batchSpan.isRecording()) {
        child('decode', timing.fetchedAt, timing.decodedAt, {
          'messaging.batch.message_count': info.records.length,
        });
        const inferenceStart = timing.inferenceStartedAt ?? timing.inferenceQueuedAt;
        child('batch wait', timing.inferenceQueuedAt, inferenceStart, {
          'streamscore.model.name': model.name,
        });
        child('inference', inferenceStart, timing.inferenceEndedAt, {
          'streamscore.model.name': model.name,
          'streamscore.model.version': model.version,
          'streamscore.batch.size': model.rows,
        });
        child(
          `send ${info.outputTopic}`,
          timing.publishStartedAt,
          timing.publishedAt,
          {
            'messaging.system': 'kafka',
            'messaging.operation.name': 'send',
            'messaging.operation.type': 'send',
            'messaging.destination.name': info.outputTopic,
          },
          SpanKind.PRODUCER,
        );
      }
      for (const span of recordSpans) span.end(epochMs(timing.publishedAt));
      batchSpan.end(epochMs(timing.publishedAt));
    },

    fail(error) {
      const errorType = error instanceof Error ? error.name : 'Error';
      for (const span of [...recordSpans, batchSpan]) {
        span.setAttribute('error.type', errorType);
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      }
    },
  };
}
