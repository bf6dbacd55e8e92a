/**
 * Traces from a real `streamscore serve` process through a real OpenTelemetry Collector. The service exports
 * over OTLP/HTTP, configured only by the standard OTEL_* variables, to a collector that
 * scripts/otelcol/otelcol.sh builds from core components; the collector's otlp_http exporter (JSON encoding)
 * delivers to a small HTTP server in this test. Only spans that made that whole trip are checked, so this
 * covers what the in-process observability test cannot: the SDK's setup from the environment, the wire
 * format, and a trace that a collector accepts and passes on intact from the producer to the predictions.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import type { Message } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { packagePath } from '../../src/config/index.js';
import type { Prediction } from '../../src/routing/index.js';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { eventCodec, predictionCodec } from '../support/codecs.js';
import {
  connectedProducer,
  createTopics,
  eventually,
  readRecords,
  testKafka,
  uniqueName,
} from '../support/kafka.js';
import {
  errorLogs,
  killStartedServices,
  type ServiceProcess,
  serviceEnvironment,
  startServiceProcess,
} from '../support/processes.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers);

const EVENTS = 300;
// Every fifth event comes from a sampled producer span and the one after it from an unsampled one: 120
// traced records, fewer than the 128 links a batch span keeps however the keys fall on the partitions.
const isSampled = (index: number) => index % 5 === 0;
const isUnsampled = (index: number) => index % 5 === 1;

// OTLP's SpanKind numbers, as the collector's JSON encoding writes them.
const SPAN_KIND = { internal: 1, producer: 4, consumer: 5 } as const;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

// --------------------------------------------------------------------------------- OTLP/JSON

type AttributeValue = string | number | boolean | undefined;

interface OtlpKeyValue {
  key: string;
  value: { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  attributes?: OtlpKeyValue[];
  links?: { traceId: string; spanId: string }[];
}

interface OtlpTracesRequest {
  resourceSpans?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: { spans?: OtlpSpan[] }[];
  }[];
}

interface SpanReference {
  traceId: string;
  spanId: string;
}

interface CollectedSpan extends SpanReference {
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  kind: number | undefined;
  attributes: Record<string, AttributeValue>;
  links: SpanReference[];
  resource: Record<string, AttributeValue>;
}

function attributeMap(attributes: readonly OtlpKeyValue[] | undefined): Record<string, AttributeValue> {
  const map: Record<string, AttributeValue> = {};
  for (const { key, value } of attributes ?? []) {
    // OTLP/JSON writes 64-bit integers as strings.
    map[key] =
      value.stringValue ??
      (value.intValue === undefined ? undefined : Number(value.intValue)) ??
      value.doubleValue ??
      value.boolValue;
  }
  return map;
}

function collectedSpans(request: OtlpTracesRequest): CollectedSpan[] {
  return (request.resourceSpans ?? []).flatMap(({ resource, scopeSpans }) => {
    const resourceAttributes = attributeMap(resource?.attributes);
    return (scopeSpans ?? []).flatMap(({ spans }) =>
      (spans ?? []).map((span) => ({
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ?? '',
        name: span.name,
        kind: span.kind,
        attributes: attributeMap(span.attributes),
        links: (span.links ?? []).map(({ traceId, spanId }) => ({ traceId, spanId })),
        resource: resourceAttributes,
      })),
    );
  });
}

// --------------------------------------------------------------------------------- the sink

interface ExportRequest {
  method: string | undefined;
  path: string | undefined;
  contentType: string | undefined;
}

/** Where the collector's otlp_http exporter delivers: every span it sent, and how each request came. */
interface SpanSink {
  url: string;
  spans: CollectedSpan[];
  requests: ExportRequest[];
  /** Why requests that could not be read as OTLP/JSON were turned away. */
  rejections: string[];
  close(): Promise<void>;
}

async function bodyOf(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  // The exporter gzips by default; the test does not care which compression it chose.
  return request.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
}

async function startSpanSink(): Promise<SpanSink> {
  const spans: CollectedSpan[] = [];
  const requests: ExportRequest[] = [];
  const rejections: string[] = [];
  const server = createServer((request, response) => {
    requests.push({
      method: request.method,
      path: request.url,
      contentType: request.headers['content-type'],
    });
    if (request.method !== 'POST' || request.url !== '/v1/traces') {
      response.writeHead(404).end();
      return;
    }
    bodyOf(request)
      .then((body) => {
        spans.push(...collectedSpans(JSON.parse(body.toString('utf8')) as OtlpTracesRequest));
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      })
      .catch((error: unknown) => {
        // Answered, or the exporter would wait for its timeout and retry the same unreadable body.
        rejections.push(String(error).slice(0, 200));
        response.writeHead(400).end();
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    requests,
    rejections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// --------------------------------------------------------------------------------- the collector

const run = promisify(execFile);
const COLLECTOR_BUILD_TIMEOUT_MS = 15 * 60_000;

/**
 * The collector binary, built on first use like global-setup starts Kafka on first use. A cold build takes
 * minutes; CI builds it in the background while the fault suite runs (.ci/run), and a call made while that
 * build holds the fetch lock waits for it.
 */
async function collectorBinary(): Promise<string> {
  try {
    const { stdout, stderr } = await run('bash', ['scripts/otelcol/otelcol.sh', 'path'], {
      cwd: packagePath(''),
      timeout: COLLECTOR_BUILD_TIMEOUT_MS,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (stderr.includes('built collector')) console.log(stderr.trim().split('\n').at(-1));
    return stdout.trim();
  } catch (error) {
    const output = error instanceof Error && 'stderr' in error ? String(error.stderr).slice(-3_000) : '';
    throw new Error(
      `could not build the OpenTelemetry Collector with scripts/otelcol/otelcol.sh (Go and the Go module proxy are needed once): ${output}`,
    );
  }
}

/** A port nobody listens on right now (the collector binds it a moment later). */
async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Collector {
  /** Base URL of its OTLP/HTTP receiver, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  otlpEndpoint: string;
  stderr(): string;
  stop(): Promise<void>;
}

async function startCollector(binary: string, sinkUrl: string, configDir: string): Promise<Collector> {
  const otlpPort = await freePort();
  const config = {
    receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${otlpPort}` } } } },
    processors: { batch: { timeout: '100ms' } },
    exporters: { otlp_http: { endpoint: sinkUrl, encoding: 'json' } },
    service: {
      // Its own metrics would be served on port 8888, which may be taken.
      telemetry: { metrics: { level: 'none' } },
      pipelines: { traces: { receivers: ['otlp'], processors: ['batch'], exporters: ['otlp_http'] } },
    },
  };
  const configPath = join(configDir, 'otelcol.yaml');
  // JSON is YAML, so the collector reads it as it is.
  await writeFile(configPath, JSON.stringify(config, null, 2));

  const child: ChildProcess = spawn(binary, [`--config=${configPath}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the collector was not ready within 30 s: ${stderr.slice(-3_000)}`));
    }, 30_000);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.includes('Everything is ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the collector exited before it was ready: ${stderr.slice(-3_000)}`));
    });
  });
  return {
    otlpEndpoint: `http://127.0.0.1:${otlpPort}`,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// --------------------------------------------------------------------------------- the test

interface ProducedEvent {
  event: CardTransaction;
  /** The test's producer span, when the event carries a traceparent. */
  producer?: SpanReference & { sampled: boolean };
  traceparent?: string;
}

function producedEvents(): ProducedEvent[] {
  const stream = sampleTransactions({ seed: 3131 });
  return Array.from({ length: EVENTS }, (_, index) => {
    const event = stream.next().value as CardTransaction;
    if (!isSampled(index) && !isUnsampled(index)) return { event };
    const producer = {
      traceId: randomBytes(16).toString('hex'),
      spanId: randomBytes(8).toString('hex'),
      sampled: isSampled(index),
    };
    const traceparent = `00-${producer.traceId}-${producer.spanId}-${producer.sampled ? '01' : '00'}`;
    return { event, producer, traceparent };
  });
}

function parseTraceparent(header: string | undefined): { traceId: string; spanId: string; flags: string } {
  const match = TRACEPARENT.exec(header ?? '');
  if (!match) throw new Error(`not a W3C traceparent: ${header}`);
  return { traceId: match[1]!, spanId: match[2]!, flags: match[3]! };
}

interface PredictionRecord {
  prediction: Prediction;
  traceparent: string | undefined;
}

describe('traces through a real OpenTelemetry Collector', () => {
  const input = uniqueName('otelcol-transactions');
  const output = uniqueName('otelcol-predictions');
  const groupId = uniqueName('otelcol-group');
  const serviceName = uniqueName('streamscore-otelcol');
  const produced = producedEvents();
  const sampled = produced.filter(({ producer }) => producer?.sampled === true);
  const unsampled = produced.filter(({ producer }) => producer?.sampled === false);
  const untraced = produced.filter(({ producer }) => producer === undefined);
  let configDir: string | undefined;
  let sink: SpanSink | undefined;
  let collector: Collector | undefined;
  let service: ServiceProcess | undefined;
  /** Input partition and offset of each event, as the service saw them. */
  const inputPosition = new Map<string, { partition: number; offset: number }>();
  const predictions = new Map<string, PredictionRecord>();

  const spanById = (spanId: string) => sink!.spans.find((span) => span.spanId === spanId);
  const childrenOf = (parent: CollectedSpan) =>
    sink!.spans.filter((span) => span.traceId === parent.traceId && span.parentSpanId === parent.spanId);
  const recordSpanOf = ({ producer }: ProducedEvent) =>
    sink!.spans.find((span) => span.traceId === producer!.traceId && span.parentSpanId === producer!.spanId);

  const batchSpans = () =>
    sink!.spans.filter((span) => span.name === `process ${input}` && span.parentSpanId === '');

  /** What the collector has not delivered yet: empty once every span the assertions look for is in. */
  function missingSpans(): string[] {
    const missing: string[] = [];
    const batchedRecords = batchSpans().reduce(
      (sum, span) => sum + Number(span.attributes['messaging.batch.message_count']),
      0,
    );
    if (batchedRecords < EVENTS) missing.push(`batch spans of ${EVENTS - batchedRecords} records`);
    const batchSpanIds = new Set<string>();
    for (const event of sampled) {
      const span = recordSpanOf(event);
      if (!span) missing.push(`record span of ${event.event.event_id}`);
      for (const link of span?.links ?? []) batchSpanIds.add(link.spanId);
    }
    for (const { event } of untraced) {
      const header = predictions.get(event.event_id)?.traceparent;
      if (header) batchSpanIds.add(parseTraceparent(header).spanId);
    }
    for (const spanId of batchSpanIds) {
      const batch = spanById(spanId);
      if (!batch) missing.push(`batch span ${spanId}`);
      else if (childrenOf(batch).length < 4) missing.push(`children of batch span ${spanId}`);
    }
    return missing;
  }

  // Every step has a deadline of its own; the hook's only has to leave room for a cold collector build.
  beforeAll(async () => {
    const binary = await collectorBinary();
    configDir = await mkdtemp(join(tmpdir(), 'streamscore-otelcol-'));
    sink = await startSpanSink();
    collector = await startCollector(binary, sink.url, configDir);

    await createTopics(kafka, [input, output, `${input}.DLT`], 3);
    const messages: Message[] = produced.map(({ event, traceparent }) => ({
      key: event.account_id,
      value: eventCodec.encode(event),
      ...(traceparent ? { headers: { traceparent } } : {}),
    }));
    const settings: Record<string, string> = {
      STREAMSCORE_KAFKA_BROKERS: brokers.join(','),
      STREAMSCORE_KAFKA_CLIENT_ID: 'streamscore-otelcol-test',
      STREAMSCORE_INPUT_TOPIC: input,
      STREAMSCORE_INPUT_GROUP_ID: groupId,
      STREAMSCORE_OUTPUT_TOPIC: output,
      STREAMSCORE_DEADLETTER_TOPIC: `${input}.DLT`,
      STREAMSCORE_MODEL_POLL_INTERVAL_MS: '0',
      OTEL_SDK_DISABLED: 'false',
      OTEL_SERVICE_NAME: serviceName,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpEndpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_TRACES_SAMPLER: 'parentbased_always_on',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      // The collector has a traces pipeline only.
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
    };
    // A developer's own OTEL_* variables (another endpoint, a ratio sampler) would send the spans elsewhere.
    const env = Object.fromEntries(
      Object.entries(serviceEnvironment(settings)).filter(
        ([name]) => !name.startsWith('OTEL_') || name in settings,
      ),
    );
    const producer = await connectedProducer(kafka);
    try {
      // Half the events wait in the topic, half arrive while the service runs: several batches a partition.
      await producer.send({ topic: input, messages: messages.slice(0, EVENTS / 2), acks: -1 });
      service = startServiceProcess('otelcol', env);
      await readRecords(kafka, output, EVENTS / 2, 90_000);
      await producer.send({ topic: input, messages: messages.slice(EVENTS / 2), acks: -1 });
    } finally {
      await producer.disconnect();
    }

    for (const { partition, message } of await readRecords(kafka, input, EVENTS, 30_000)) {
      inputPosition.set(eventCodec.decode(message.value).event_id, {
        partition,
        offset: Number(message.offset),
      });
    }
    for (const { message } of await readRecords(kafka, output, EVENTS, 90_000)) {
      const prediction = predictionCodec.decode(message.value);
      predictions.set(prediction.event_id, {
        prediction,
        traceparent: message.headers?.traceparent?.toString(),
      });
    }
    if (predictions.size < EVENTS) {
      throw new Error(
        `only ${predictions.size} of ${EVENTS} events were predicted; service stderr: ${service.stderr().slice(-2_000)}`,
      );
    }
    const delivered = await eventually(() => missingSpans().length === 0, 60_000);
    if (!delivered) {
      throw new Error(
        `the collector did not deliver ${missingSpans().slice(0, 5).join(', ')} (${sink.spans.length} spans in, ` +
          `${sink.requests.length} requests, rejected: ${sink.rejections.slice(0, 3).join('; ') || 'none'}); ` +
          `collector stderr: ${collector.stderr().slice(-2_000)}`,
      );
    }
  }, COLLECTOR_BUILD_TIMEOUT_MS + 180_000);

  afterAll(async () => {
    await service?.terminate(15_000);
    await killStartedServices();
    await collector?.stop();
    await sink?.close();
    if (configDir) await rm(configDir, { recursive: true, force: true });
  });

  it('carries each sampled producer trace on to the prediction, from a span of its own', () => {
    for (const { event, producer } of sampled) {
      const header = parseTraceparent(predictions.get(event.event_id)?.traceparent);
      expect(header).toMatchObject({ traceId: producer!.traceId, flags: '01' });
      expect(header.spanId).not.toBe(producer!.spanId);
    }
  });

  it('passes an unsampled producer trace on unchanged and exports none of it', () => {
    const exportedTraces = new Set(sink!.spans.map((span) => span.traceId));
    for (const { event, producer, traceparent } of unsampled) {
      expect(predictions.get(event.event_id)?.traceparent).toBe(traceparent);
      expect(exportedTraces.has(producer!.traceId)).toBe(false);
    }
  });

  it('exports a CONSUMER span per sampled record, child of the producer span and parent of the prediction', () => {
    for (const produced of sampled) {
      const { event, producer } = produced;
      const span = recordSpanOf(produced)!;
      const position = inputPosition.get(event.event_id)!;
      expect(span).toMatchObject({
        name: `process ${input}`,
        kind: SPAN_KIND.consumer,
        traceId: producer!.traceId,
        parentSpanId: producer!.spanId,
        spanId: parseTraceparent(predictions.get(event.event_id)?.traceparent).spanId,
      });
      expect(span.attributes).toMatchObject({
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': input,
        'messaging.destination.partition.id': String(position.partition),
        'messaging.consumer.group.name': groupId,
        'messaging.kafka.offset': position.offset,
      });
      expect(span.links).toHaveLength(1);
    }
  });

  it('links each record span to its batch span, which links back to the producer and has the stage spans', () => {
    for (const produced of sampled) {
      const { event, producer } = produced;
      const [link] = recordSpanOf(produced)!.links;
      const batch = spanById(link!.spanId)!;
      expect(batch).toMatchObject({
        traceId: link!.traceId,
        parentSpanId: '',
        name: `process ${input}`,
        kind: SPAN_KIND.consumer,
      });
      expect(batch.attributes).toMatchObject({
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': input,
        'messaging.destination.partition.id': String(inputPosition.get(event.event_id)!.partition),
        'messaging.consumer.group.name': groupId,
      });
      expect(batch.links).toContainEqual({ traceId: producer!.traceId, spanId: producer!.spanId });

      const stages = new Map(childrenOf(batch).map((child) => [child.name, child]));
      expect([...stages.keys()].sort()).toEqual(['batch wait', 'decode', 'inference', `send ${output}`]);
      expect(stages.get('decode')!.kind).toBe(SPAN_KIND.internal);
      expect(stages.get('batch wait')!.kind).toBe(SPAN_KIND.internal);
      const inference = stages.get('inference')!;
      expect(inference.kind).toBe(SPAN_KIND.internal);
      expect(inference.attributes).toMatchObject({
        'streamscore.model.name': 'fraud-gbm',
        'streamscore.model.version': '1',
        'streamscore.batch.size': batch.attributes['messaging.batch.message_count'],
      });
      const send = stages.get(`send ${output}`)!;
      expect(send.kind).toBe(SPAN_KIND.producer);
      expect(send.attributes).toMatchObject({
        'messaging.system': 'kafka',
        'messaging.destination.name': output,
      });
    }
  });

  it('gives a prediction without a producer trace the traceparent of its batch span', () => {
    for (const { event } of untraced) {
      const header = parseTraceparent(predictions.get(event.event_id)?.traceparent);
      const batch = spanById(header.spanId);
      expect(batch).toMatchObject({ traceId: header.traceId, name: `process ${input}`, parentSpanId: '' });
      expect(batch!.attributes['messaging.destination.partition.id']).toBe(
        String(inputPosition.get(event.event_id)!.partition),
      );
    }
  });

  it('exports every batch exactly once: the batch spans add up to the records', () => {
    const batches = batchSpans();
    expect(new Set(batches.map((span) => span.spanId)).size).toBe(batches.length);
    const records = batches.reduce(
      (sum, span) => sum + Number(span.attributes['messaging.batch.message_count']),
      0,
    );
    expect(records).toBe(EVENTS);
  });

  it('names the service on every span, which arrived from the collector as OTLP/JSON', () => {
    expect(sink!.spans.length).toBeGreaterThan(0);
    for (const span of sink!.spans) {
      expect(span.resource).toMatchObject({
        'service.name': serviceName,
        'telemetry.sdk.language': 'nodejs',
      });
    }
    expect(sink!.requests.length).toBeGreaterThan(0);
    expect(sink!.rejections).toEqual([]);
    for (const request of sink!.requests) {
      expect(request).toMatchObject({ method: 'POST', path: '/v1/traces', contentType: 'application/json' });
    }
  });

  it('logs no errors', () => {
    expect(errorLogs(service!)).toEqual([]);
  });
});
