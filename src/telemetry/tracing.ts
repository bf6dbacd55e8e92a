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
import type { KafkaMessage } from 'kafkajs';

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

export interface BatchTraceInfo {
  topic: string;
  partition: number;
  groupId: string;
  messages: readonly KafkaMessage[];
  outputTopic: string;
}

export interface BatchSpan {
  /** The traceparent to put on the output record made from `message`; undefined when not traced. */
  traceparentFor(message: KafkaMessage): string | undefined;
  end(timing: BatchTiming, model: { name: string; version: string; rows: number }): void;
  fail(error: unknown): void;
}

// The SDK keeps 128 links per span by default; parsing more headers would be wasted work.
const MAX_LINKS = 128;
const propagator = new W3CTraceContextPropagator();

/** Header names are matched case-insensitively; values arrive as Buffers. */
function headerValue(headers: KafkaMessage['headers'], key: string): string | undefined {
  if (!headers) return undefined;
  const name = Object.keys(headers).find((candidate) => candidate.toLowerCase() === key);
  const value = name === undefined ? undefined : headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

const headerGetter: TextMapGetter<KafkaMessage['headers']> = {
  keys: (headers) => Object.keys(headers ?? {}),
  get: headerValue,
};

function producerContext(message: KafkaMessage): Context | undefined {
  if (!message.headers) return undefined;
  const extracted = propagator.extract(ROOT_CONTEXT, message.headers, headerGetter);
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
  const producers = new Map<KafkaMessage, Context>();
  for (const message of info.messages) {
    const parent = producerContext(message);
    if (!parent) continue;
    producers.set(message, parent);
    if (links.length < MAX_LINKS) links.push({ context: trace.getSpanContext(parent)! });
  }
  const batchSpan = tracer.startSpan(
    `process ${info.topic}`,
    {
      kind: SpanKind.CONSUMER,
      startTime: epochMs(fetchedAt),
      links,
      attributes: { ...messaging, 'messaging.batch.message_count': info.messages.length },
    },
    ROOT_CONTEXT,
  );
  const batchContext = trace.setSpan(ROOT_CONTEXT, batchSpan);
  const batchTraceparent = batchSpan.isRecording() ? traceparentOf(batchSpan) : undefined;
  const recordSpans: Span[] = [];

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
    traceparentFor(message) {
      const parent = producers.get(message);
      if (!parent) return batchTraceparent;
      // An unsampled producer trace is passed on as it came: no span, no cost.
      if ((trace.getSpanContext(parent)!.traceFlags & 1) === 0)
        return headerValue(message.headers, 'traceparent');
      const span = tracer.startSpan(
        `process ${info.topic}`,
        {
          kind: SpanKind.CONSUMER,
          startTime: epochMs(fetchedAt),
          links: [{ context: batchSpan.spanContext() }],
          attributes: { ...messaging, 'messaging.kafka.offset': Number(message.offset) },
        },
        parent,
      );
      recordSpans.push(span);
      return traceparentOf(span);
    },

    end(timing, model) {
      if (batchSpan.isRecording()) {
        child('decode', timing.fetchedAt, timing.decodedAt, {
          'messaging.batch.message_count': info.messages.length,
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
