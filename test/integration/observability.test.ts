/**
 * What an on-call engineer sees of a run on a real broker: the trace a producer started carried through
 * streamscore to whoever reads the predictions, the /metrics exposition against what the test produced,
 * and the log lines, none of which may carry a card number. The service runs in this process with
 * providers of the test's own (an in-memory span exporter, a Prometheus reader), passed in as the CLI
 * passes the SDK's.
 */
import { context, type SpanContext, SpanKind, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { IHeaders, Message } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { type RunningService, startService } from '../../src/service/index.js';
import { telemetryFrom } from '../../src/telemetry/index.js';
import { eventCodec, predictionCodec } from '../support/codecs.js';
import {
  connectedProducer,
  createTopics,
  eventually,
  type ReadRecord,
  readRecords,
  testKafka,
  uniqueName,
} from '../support/kafka.js';
import { capturingLogger } from '../support/logs.js';
import { malformedCorpus } from '../support/malformed.js';
import { metricValue, type PrometheusExposition, readExposition, samplesOf } from '../support/prometheus.js';
import { serviceTestConfig } from '../support/service.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers);
const propagator = new W3CTraceContextPropagator();

const EVENTS = 3_000;
// The first events are sent again once scored, as a producer retry would: the cache answers them.
const REPLAYS = 100;
const SCORED = EVENTS + REPLAYS;
// Every 20th event comes from a sampled producer trace, every 50th from an unsampled one.
const isTraced = (index: number) => index % 20 === 0;
const isUnsampled = (index: number) => index % 50 === 7;

interface ProducedEvent {
  event: CardTransaction;
  /** The producer span this event was sent from; undefined when it carries no traceparent. */
  producer?: SpanContext;
  traceparent?: string;
}

function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  return value === undefined ? undefined : String(Array.isArray(value) ? value[0] : value);
}

describe('observability on a real broker', () => {
  const input = uniqueName('obs-transactions');
  const output = uniqueName('obs-predictions');
  const groupId = uniqueName('obs-group');
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    sampler: new AlwaysOnSampler(),
    spanProcessors: [new SimpleSpanProcessor(spans)],
  });
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ readers: [prometheus] });
  const { logger, lines } = capturingLogger('debug');
  const produced: ProducedEvent[] = [];
  const corpusEvent = sampleTransactions({ seed: 4242 }).next().value as CardTransaction;
  const corpus = malformedCorpus(corpusEvent);
  let service: RunningService;
  let predictions: ReadRecord[];
  let exposition: PrometheusExposition;

  beforeAll(async () => {
    await createTopics(kafka, [input, output, `${input}.DLT`], 3);
    const stream = sampleTransactions({ seed: 1717 });
    const producerTracer = tracerProvider.getTracer('test-producer');
    for (let index = 0; index < EVENTS; index++) {
      const event = stream.next().value as CardTransaction;
      if (isTraced(index)) {
        const span = producerTracer.startSpan(`send ${input}`, { kind: SpanKind.PRODUCER });
        const carrier: Record<string, string> = {};
        propagator.inject(trace.setSpan(context.active(), span), carrier, {
          set: (headers, key, value) => {
            headers[key] = value;
          },
        });
        span.end();
        produced.push({ event, producer: span.spanContext(), traceparent: carrier.traceparent! });
      } else if (isUnsampled(index)) {
        const traceId = index.toString(16).padStart(32, 'a');
        produced.push({ event, traceparent: `00-${traceId}-${'b'.repeat(16)}-00` });
      } else {
        produced.push({ event });
      }
    }

    const messages: Message[] = produced.map(({ event, traceparent }) => ({
      key: event.account_id,
      value: eventCodec.encode(event),
      ...(traceparent ? { headers: { traceparent } } : {}),
    }));
    messages.push(...corpus.map(({ name, value }) => ({ key: `bad-${name}`, value })));
    const producer = await connectedProducer(kafka);
    await producer.send({ topic: input, messages, acks: -1 });

    service = await startService(serviceTestConfig(brokers, { input, output, groupId }), logger, {
      version: '9.9.9-test',
      telemetry: telemetryFrom(
        tracerProvider.getTracer('streamscore'),
        meterProvider.getMeter('streamscore'),
        prometheus,
        async () => undefined,
      ),
    });
    await readRecords(kafka, output, EVENTS, 120_000);
    await producer.send({ topic: input, messages: messages.slice(0, REPLAYS), acks: -1 });
    await producer.disconnect();
    predictions = await readRecords(kafka, output, SCORED, 120_000);
    await eventually(() => service.counters.recordsIn === messages.length + REPLAYS, 60_000);
    const response = await fetch(`${service.adminUrl}/metrics`);
    expect(response.status, await response.clone().text()).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    exposition = readExposition(await response.text());
  });

  afterAll(async () => {
    await service?.stop();
    await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
  });

  const finishedSpans = () => spans.getFinishedSpans();
  const spanById = (spanId: string) => finishedSpans().find((span) => span.spanContext().spanId === spanId);
  const predictionOf = new Map<string, ReadRecord>();
  const predictionFor = (event: CardTransaction) => {
    if (predictionOf.size === 0)
      for (const record of predictions)
        predictionOf.set(predictionCodec.decode(record.message.value).event_id, record);
    return predictionOf.get(event.event_id);
  };

  describe('traces', () => {
    it('continues each sampled producer trace onto the prediction, through a span of streamscore', async () => {
      const traced = produced.filter(({ producer }) => producer !== undefined);
      expect(traced.length).toBe(EVENTS / 20);
      // Spans end once the batch is acknowledged, which can be just after the reader saw its records.
      await eventually(
        () =>
          finishedSpans().filter((span) => span.parentSpanContext?.spanId !== undefined).length >
          traced.length,
        10_000,
      );
      for (const { event, producer } of traced) {
        const header = headerText(predictionFor(event)?.message.headers, 'traceparent');
        expect(header, event.event_id).toBeDefined();
        // What a downstream consumer does with the header: continue the trace from it.
        const downstream = trace.getSpanContext(
          propagator.extract(
            context.active(),
            { traceparent: header },
            {
              get: (carrier, key) => carrier[key as keyof typeof carrier],
              keys: (carrier) => Object.keys(carrier),
            },
          ),
        );
        expect(downstream?.traceId).toBe(producer!.traceId);

        const recordSpan = spanById(downstream!.spanId);
        expect(recordSpan?.name).toBe(`process ${input}`);
        expect(recordSpan?.kind).toBe(SpanKind.CONSUMER);
        expect(recordSpan?.parentSpanContext?.spanId).toBe(producer!.spanId);
        expect(recordSpan?.attributes['messaging.kafka.offset']).toBeTypeOf('number');
        expect(recordSpan?.links).toHaveLength(1);

        const batchSpan = spanById(recordSpan!.links[0]!.context.spanId);
        expect(batchSpan?.kind).toBe(SpanKind.CONSUMER);
        expect(batchSpan?.links.map((link) => link.context.spanId)).toContain(producer!.spanId);
      }
    });

    it('describes each batch in the messaging conventions, with decode, wait, inference and send inside', () => {
      const batches = finishedSpans().filter(
        (span) => span.name === `process ${input}` && span.parentSpanContext === undefined,
      );
      expect(batches.length).toBeGreaterThan(0);
      const children = (batch: ReadableSpan) =>
        finishedSpans().filter((span) => span.parentSpanContext?.spanId === batch.spanContext().spanId);
      let messagesInBatches = 0;
      for (const batch of batches) {
        expect(batch.attributes).toMatchObject({
          'messaging.system': 'kafka',
          'messaging.operation.type': 'process',
          'messaging.destination.name': input,
          'messaging.consumer.group.name': groupId,
        });
        expect(['0', '1', '2']).toContain(batch.attributes['messaging.destination.partition.id']);
        messagesInBatches += Number(batch.attributes['messaging.batch.message_count']);
        const byName = new Map(children(batch).map((span) => [span.name, span]));
        expect([...byName.keys()].sort()).toEqual(['batch wait', 'decode', 'inference', `send ${output}`]);
        expect(byName.get('inference')?.attributes).toMatchObject({
          'streamscore.model.name': 'fraud-gbm',
          'streamscore.model.version': '1',
        });
        expect(byName.get('inference')?.attributes['streamscore.batch.size']).toBeGreaterThan(0);
        expect(byName.get(`send ${output}`)?.kind).toBe(SpanKind.PRODUCER);
        expect(byName.get(`send ${output}`)?.attributes['messaging.destination.name']).toBe(output);
      }
      expect(messagesInBatches).toBe(SCORED + corpus.length);
    });

    it('passes an unsampled traceparent on unchanged, and gives untraced records the batch span', () => {
      for (const [index, { event, traceparent }] of produced.entries()) {
        const header = headerText(predictionFor(event)?.message.headers, 'traceparent');
        if (isUnsampled(index)) {
          expect(header).toBe(traceparent);
          const traceId = traceparent!.split('-')[1];
          expect(finishedSpans().filter((span) => span.spanContext().traceId === traceId)).toEqual([]);
        } else if (!isTraced(index)) {
          const spanId = header?.split('-')[2];
          const batch = spanById(spanId!);
          expect(batch?.name).toBe(`process ${input}`);
          expect(batch?.parentSpanContext).toBeUndefined();
        }
      }
    });
  });

  describe('metrics', () => {
    const attributes = { topic: input };
    const model = { model: 'fraud-gbm', version: '1' };

    it('parses as Prometheus text and passes promtool lint', () => {
      expect(exposition.families.length).toBeGreaterThan(10);
      expect(exposition.problems).toEqual([]);
    });

    it('counts what the test produced: records in, predictions out, dead letters by code', () => {
      expect(metricValue(exposition, 'streamscore_records_in_total', attributes)).toBe(
        SCORED + corpus.length,
      );
      expect(metricValue(exposition, 'streamscore_predictions_out_total', attributes)).toBe(SCORED);
      const expectedByCode = new Map<string, number>();
      for (const { code } of corpus) expectedByCode.set(code, (expectedByCode.get(code) ?? 0) + 1);
      const byCode = new Map(
        samplesOf(exposition, 'streamscore_dead_lettered_total', attributes).map((sample) => [
          sample.labels.code!,
          sample.value,
        ]),
      );
      // Every bad-record code has a series from the start; those the corpus did not produce stay at 0.
      expect(new Map([...byCode].filter(([, count]) => count > 0))).toEqual(expectedByCode);
      expect(byCode.get('INFERENCE_RECORD_FAILED')).toBe(0);
      const decodeErrors = corpus.filter(({ code }) => code.startsWith('RECORD_')).length;
      expect(metricValue(exposition, 'streamscore_decode_errors_total', attributes)).toBe(decodeErrors);
      expect(decodeErrors).toBeGreaterThan(0);
    });

    it('counts a cache lookup per scored record, a hit per replay, and an inference row per miss', () => {
      const hits = metricValue(exposition, 'streamscore_cache_hits_total', model);
      const misses = metricValue(exposition, 'streamscore_cache_misses_total', model);
      expect(hits + misses).toBe(SCORED);
      expect(hits).toBeGreaterThanOrEqual(REPLAYS);
      const [rows] = samplesOf(exposition, 'streamscore_inference_batch_rows', model);
      expect(rows?.sum).toBe(misses);
    });

    it('records the end-to-end, processing and batch wait times in seconds', () => {
      const [endToEnd] = samplesOf(exposition, 'streamscore_end_to_end_latency_seconds');
      expect(endToEnd?.count).toBe(SCORED);
      expect(endToEnd?.sum).toBeGreaterThan(0);
      const [processing] = samplesOf(exposition, 'streamscore_batch_processing_seconds', attributes);
      expect(processing?.count).toBeGreaterThan(0);
      // One wait per inference call, as many as batch sizes recorded.
      const [wait] = samplesOf(exposition, 'streamscore_inference_batch_wait_seconds', model);
      const [rows] = samplesOf(exposition, 'streamscore_inference_batch_rows', model);
      const [duration] = samplesOf(exposition, 'streamscore_inference_duration_seconds', model);
      expect(wait?.count).toBe(rows?.count);
      expect(duration?.count).toBe(rows?.count);
      expect(duration?.sum).toBeGreaterThan(0);
      expect(wait?.count).toBeGreaterThan(0);
    });

    it('shows zero lag on every partition once all is consumed, the serving version and the build', () => {
      const lag = samplesOf(exposition, 'kafka_consumergroup_group_lag', attributes);
      expect(lag.map((sample) => sample.labels.partition).sort()).toEqual(['0', '1', '2']);
      expect(lag.every((sample) => sample.value === 0)).toBe(true);
      const lagSeconds = samplesOf(exposition, 'kafka_consumergroup_group_lag_seconds', attributes);
      expect(lagSeconds.map((sample) => [sample.labels.partition, sample.value]).sort()).toEqual([
        ['0', 0],
        ['1', 0],
        ['2', 0],
      ]);
      expect(metricValue(exposition, 'streamscore_model_serving', { model: 'fraud-gbm', version: '1' })).toBe(
        1,
      );
      expect(metricValue(exposition, 'streamscore_build_info', { version: '9.9.9-test' })).toBe(1);
      expect(metricValue(exposition, 'streamscore_inference_queued_rows', { model: 'fraud-gbm' })).toBe(0);
      expect(metricValue(exposition, 'streamscore_inference_running_rows', { model: 'fraud-gbm' })).toBe(0);
    });
  });

  describe('logs', () => {
    it('carries no card number, account or device id in any line, at debug level, dead letters included', () => {
      const rejected = lines.filter((line) => line.msg === 'record rejected');
      expect(rejected).toHaveLength(corpus.length);
      expect(lines.filter((line) => line.component === 'kafkajs').length).toBeGreaterThan(0);
      const secrets = new Set(
        [...produced.map(({ event }) => event), corpusEvent].flatMap((event) => [
          event.card_number,
          event.account_id,
          event.device_id ?? '',
        ]),
      );
      secrets.delete('');
      const leaks = lines
        .map((line) => JSON.stringify(line))
        .filter((text) => [...secrets].some((secret) => text.includes(secret)));
      expect(leaks).toEqual([]);
    });
  });
});
