import { SpanKind, type Tracer } from '@opentelemetry/api';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import type { InputRecord, RecordHeaders } from '../../src/kafka/index.js';
import { disabledTelemetry, startBatchSpan } from '../../src/telemetry/index.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PRODUCER_SPAN = '00f067aa0ba902b7';

function message(offset: number, headers?: RecordHeaders): InputRecord {
  return { key: null, value: Buffer.from('x'), timestamp: '0', offset: String(offset), headers };
}

const timing = {
  fetchedAt: 1,
  decodedAt: 2,
  inferenceQueuedAt: 3,
  inferenceStartedAt: 4,
  inferenceEndedAt: 5,
  publishStartedAt: 6,
  publishedAt: 7,
};

function traced() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    sampler: new AlwaysOnSampler(),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return { exporter, tracer: provider.getTracer('test') };
}

const info = (records: InputRecord[]) => ({
  topic: 'in',
  partition: 0,
  groupId: 'g',
  records,
  outputTopic: 'out',
});

describe('batch spans', () => {
  it('continues a sampled producer trace whatever the header name case, and links the batch to it', () => {
    const { exporter, tracer } = traced();
    const sampled = message(0, { TraceParent: Buffer.from(`00-${TRACE}-${PRODUCER_SPAN}-03`) });
    const span = startBatchSpan(tracer, info([sampled]), 0);
    const header = String(span.traceparentFor(sampled));
    span.end(timing, { name: 'm', version: '1', rows: 1 });

    expect(header).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
    const spans = exporter.getFinishedSpans();
    const recordSpan = spans.find((candidate) => candidate.spanContext().spanId === header.split('-')[2]);
    expect(recordSpan?.parentSpanContext?.spanId).toBe(PRODUCER_SPAN);
    const batch = spans.find(
      (candidate) => candidate.kind === SpanKind.CONSUMER && !candidate.parentSpanContext,
    );
    expect(batch?.links.map((link) => link.context.spanId)).toEqual([PRODUCER_SPAN]);
  });

  it('passes an unsampled traceparent on as it came, and starts no span in its trace', () => {
    const { exporter, tracer } = traced();
    const raw = Buffer.from(`00-${TRACE}-${PRODUCER_SPAN}-02`);
    const unsampled = message(0, { traceparent: raw });
    const span = startBatchSpan(tracer, info([unsampled]), 0);
    expect(span.traceparentFor(unsampled)).toBe(raw);
    span.end(timing, { name: 'm', version: '1', rows: 1 });
    expect(exporter.getFinishedSpans().filter((done) => done.spanContext().traceId === TRACE)).toEqual([]);
  });

  it("gives records without a usable traceparent the batch span's", () => {
    const { tracer } = traced();
    const missing = message(0);
    const malformed = message(1, {
      traceparent: 'not a traceparent at all, but long enough to be checked ok',
    });
    const span = startBatchSpan(tracer, info([missing, malformed]), 0);
    const batchHeader = span.traceparentFor(missing);
    expect(batchHeader).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(span.traceparentFor(malformed)).toBe(batchHeader);
    span.end(timing, { name: 'm', version: '1', rows: 2 });
  });

  it('starts no span of its own for a record when tracing is off, and passes every header name case on', () => {
    const disabled = disabledTelemetry().tracer;
    let started = 0;
    const counting: Tracer = {
      startSpan(...args: Parameters<Tracer['startSpan']>) {
        started += 1;
        return disabled.startSpan(...args);
      },
      startActiveSpan: disabled.startActiveSpan.bind(disabled),
    };
    const sampled = message(0, { TraceParent: `00-${TRACE}-${PRODUCER_SPAN}-01` });
    const unsampled = message(1, { traceparent: [Buffer.from(`00-${TRACE}-${PRODUCER_SPAN}-00`)] });
    const malformed = message(2, { traceparent: 'x'.repeat(60) });
    const span = startBatchSpan(counting, info([sampled, unsampled, malformed, message(3)]), 0);
    expect(String(span.traceparentFor(sampled))).toBe(`00-${TRACE}-${PRODUCER_SPAN}-01`);
    expect(String(span.traceparentFor(unsampled))).toBe(`00-${TRACE}-${PRODUCER_SPAN}-00`);
    expect(span.traceparentFor(malformed)).toBeUndefined();
    expect(span.traceparentFor(message(3))).toBeUndefined();
    span.end(timing, { name: 'm', version: '1', rows: 4 });
    expect(started).toBe(1);
  });

  it('passes a sampled traceparent on unchanged when tracing is off', () => {
    const header = `00-${TRACE}-${PRODUCER_SPAN}-01`;
    const sampled = message(0, { traceparent: Buffer.from(header) });
    const span = startBatchSpan(disabledTelemetry().tracer, info([sampled, message(1)]), 0);
    expect(String(span.traceparentFor(sampled))).toBe(header);
    expect(span.traceparentFor(message(1))).toBeUndefined();
  });
});
