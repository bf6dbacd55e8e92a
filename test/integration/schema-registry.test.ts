/**
 * The Confluent wire format against a real schema registry (Apicurio Registry's Confluent-compatible API,
 * started by the global set-up): producers whose schemas evolved are scored or dead-lettered with the
 * right code, predictions and comparisons are written under registered ids, and a registry outage makes
 * the batch wait (readiness failing, nothing dead-lettered) until it is back.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Prediction } from '../../src/routing/index.js';
import { type Comparison, DeadLetterHeaders } from '../../src/routing/index.js';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { type RunningService, startService } from '../../src/service/index.js';
import { eventCodec } from '../support/codecs.js';
import {
  connectedProducer,
  createTopics,
  eventually,
  readRecords,
  testKafka,
  uniqueName,
} from '../support/kafka.js';
import { capturingLogger } from '../support/logs.js';
import { referenceScores } from '../support/reference.js';
import { decodeWireFormat, registerSchema } from '../support/registry.js';
import { MODEL_V1, MODEL_V2, publishVersion, temporaryRepository } from '../support/repository.js';
import { evolutionCases, readerSchema, wireFormat, writeDatum } from '../support/schema-evolution.js';
import { serviceTestConfig } from '../support/service.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const brokers = inject('kafkaBrokers');
const registryUrl = inject('registryUrl');
const kafka = testKafka(brokers);
const PER_CASE = 40;
const UNKNOWN_ID = 2_000_000_000;

interface Sent {
  value: Buffer;
  key: string;
  /** How the reader sees the event, when it must be scored. */
  read?: CardTransaction;
  refusedWith?: string;
}

async function publish(topic: string, sent: readonly Sent[]): Promise<void> {
  const producer = await connectedProducer(kafka);
  try {
    await producer.send({ topic, acks: -1, messages: sent.map(({ key, value }) => ({ key, value })) });
  } finally {
    await producer.disconnect();
  }
}

/**
 * The registry's first answers after its start can take seconds on a busy machine (a CI run's set-up
 * failed at 1 s), so the service waits as long as by default unless a test cuts the registry off.
 */
async function startRegistryService(
  name: string,
  registry: string,
  experiments: Record<string, unknown> = {},
  input: Record<string, unknown> = {},
  requestTimeoutMs = 10_000,
) {
  const repository = await temporaryRepository();
  await publishVersion(repository, MODEL_V1, '1');
  await publishVersion(repository, MODEL_V2, '1', () => undefined, 'fraud-gbm-v2');
  const topics = {
    input: uniqueName(`${name}-transactions`),
    output: uniqueName(`${name}-predictions`),
    groupId: uniqueName(`${name}-group`),
  };
  await createTopics(
    kafka,
    [topics.input, topics.output, `${topics.input}.DLT`, `${topics.output}.comparisons`],
    3,
  );
  const { logger, lines } = capturingLogger('info');
  const service = await startService(
    serviceTestConfig(brokers, topics, {
      input: { format: 'confluent', ...input },
      output: { format: 'confluent' },
      registry: { urls: [registry], requestTimeoutMs },
      model: { repository, pollIntervalMs: 0 },
      experiments,
    }),
    logger,
  );
  return { service, topics, lines };
}

describe('producers whose schemas evolved, through a real registry', () => {
  const stream = sampleTransactions({ seed: 4_242 });
  const sent: Sent[] = [];
  let service: RunningService;
  let predictions: { value: Prediction; schemaId: number }[];
  let comparisons: { value: Comparison; schemaId: number }[];
  let deadLetterCodes: Map<string, number>;
  let expected: Map<string, number>;
  let outputSubjectId: number;

  beforeAll(async () => {
    const started = await startRegistryService('evolution', registryUrl, {
      challengers: ['mirror:shadow:fraud-gbm-v2@1:1'],
    });
    service = started.service;
    const { topics } = started;
    const subject = `${topics.input}-value`;
    // Each writer version as its producer registers it; the registry holds them under one subject when
    // its rules allow, so each goes under a subject of its own here: ids are global either way.
    const readerId = await registerSchema(registryUrl, subject, JSON.stringify(readerSchema()));
    for (let index = 0; index < PER_CASE; index++) {
      const event = stream.next().value as CardTransaction;
      sent.push({
        key: event.account_id,
        value: wireFormat(readerId, eventCodec.encode(event)),
        read: event,
      });
    }
    for (const [index, evolution] of evolutionCases.entries()) {
      const id = await registerSchema(registryUrl, `${subject}-v${index + 2}`, evolution.schema);
      for (let count = 0; count < PER_CASE; count++) {
        const event = stream.next().value as CardTransaction;
        sent.push({
          key: event.account_id,
          value: wireFormat(id, writeDatum(evolution.schema, evolution.written(event))),
          ...(evolution.read ? { read: evolution.read(event) } : { refusedWith: evolution.refusedWith! }),
        });
      }
    }
    for (let count = 0; count < 10; count++) {
      const event = stream.next().value as CardTransaction;
      sent.push({
        key: event.account_id,
        value: wireFormat(UNKNOWN_ID, eventCodec.encode(event)),
        refusedWith: 'SCHEMA_NOT_FOUND',
      });
      // Plain Avro sent to a wire-format topic: its first byte is the event id's length, never 0.
      sent.push({ key: event.account_id, value: eventCodec.encode(event), refusedWith: 'SCHEMA_MAGIC_BYTE' });
    }
    await publish(topics.input, sent);

    const scored = sent.filter((record) => record.read);
    const refused = sent.length - scored.length;
    const [predicted, compared, dead] = await Promise.all([
      readRecords(kafka, topics.output, scored.length, 120_000),
      readRecords(kafka, `${topics.output}.comparisons`, scored.length, 120_000),
      readRecords(kafka, `${topics.input}.DLT`, refused, 120_000),
    ]);
    predictions = await decodeWireFormat<Prediction>(
      registryUrl,
      predicted.map(({ message }) => message.value!),
    );
    comparisons = await decodeWireFormat<Comparison>(
      registryUrl,
      compared.map(({ message }) => message.value!),
    );
    deadLetterCodes = new Map();
    for (const { message } of dead) {
      const code = String(message.headers?.[DeadLetterHeaders.errorCode]);
      deadLetterCodes.set(code, (deadLetterCodes.get(code) ?? 0) + 1);
    }
    expected = await referenceScores(
      scored.map((record) => record.read!),
      join(MODEL_V1, 'model.onnx'),
    );
    const lookup = await fetch(`${registryUrl}/subjects/${topics.output}-value/versions/latest`);
    outputSubjectId = ((await lookup.json()) as { id: number }).id;
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('scores every event of every compatible writer, as the reader schema sees it', () => {
    expect(predictions).toHaveLength(expected.size);
    for (const { value } of predictions) {
      expect(value.score).toBeCloseTo(expected.get(value.event_id)!, 5);
    }
  });

  it('dead-letters each refused record with its code, and nothing else', () => {
    expect(Object.fromEntries(deadLetterCodes)).toEqual({
      SCHEMA_INCOMPATIBLE: PER_CASE,
      SCHEMA_NOT_FOUND: 10,
      SCHEMA_MAGIC_BYTE: 10,
    });
    expect(service.counters.rejected).toBe(PER_CASE + 20);
  });

  it('writes predictions under the id registered for <output>-value', () => {
    expect(new Set(predictions.map(({ schemaId }) => schemaId))).toEqual(new Set([outputSubjectId]));
  });

  it('writes comparisons in the wire format too, one per scored event', () => {
    expect(comparisons).toHaveLength(expected.size);
    expect(new Set(comparisons.map(({ value }) => value.challenger.model_name))).toEqual(
      new Set(['fraud-gbm-v2']),
    );
  });
});

describe('the registry unreachable mid-stream', () => {
  const stream = sampleTransactions({ seed: 4_343 });
  let proxy: TcpProxy;
  let service: RunningService;
  let topics: { input: string; output: string };
  const before: Sent[] = [];
  const during: Sent[] = [];
  let reasonsWhileCut: string[] = [];
  let predictedWhileCut: number;
  let predictions: { value: Prediction; schemaId: number }[];
  let deadLetters: number;

  beforeAll(async () => {
    const upstream = new URL(registryUrl);
    proxy = await startTcpProxy(upstream.hostname, Number(upstream.port));
    const proxied = `http://127.0.0.1:${proxy.port}${upstream.pathname}`;
    const started = await startRegistryService('outage', proxied, {}, {}, 1_000);
    service = started.service;
    topics = started.topics;
    const subject = `${topics.input}-value`;
    const readerId = await registerSchema(registryUrl, subject, JSON.stringify(readerSchema()));
    for (let index = 0; index < 200; index++) {
      const event = stream.next().value as CardTransaction;
      before.push({
        key: event.account_id,
        value: wireFormat(readerId, eventCodec.encode(event)),
        read: event,
      });
    }
    await publish(topics.input, before);
    await readRecords(kafka, topics.output, before.length, 60_000);

    // A producer moves to a new version while the registry is out of streamscore's reach.
    await proxy.cut();
    const evolution = evolutionCases[0]!;
    const newId = await registerSchema(registryUrl, `${subject}-v2`, evolution.schema);
    for (let index = 0; index < 200; index++) {
      const event = stream.next().value as CardTransaction;
      during.push({
        key: event.account_id,
        value: wireFormat(newId, writeDatum(evolution.schema, evolution.written(event))),
        read: event,
      });
    }
    await publish(topics.input, during);
    await eventually(
      () => service.readiness.reasons.some((reason) => reason.startsWith('schema registry')),
      30_000,
    );
    reasonsWhileCut = service.readiness.reasons;
    predictedWhileCut = service.counters.predictionsOut;

    await proxy.restore();
    const records = await readRecords(kafka, topics.output, before.length + during.length, 120_000);
    predictions = await decodeWireFormat<Prediction>(
      registryUrl,
      records.map(({ message }) => message.value!),
    );
    deadLetters = (await readRecords(kafka, `${topics.input}.DLT`, 1, 2_000)).length;
  });

  afterAll(async () => {
    await service?.stop();
    await proxy?.close();
  });

  it('holds the batch while the registry is unreachable, and says why on /readyz', async () => {
    expect(predictedWhileCut).toBe(before.length);
    expect(reasonsWhileCut.join('; ')).toMatch(/schema registry: schema registry unreachable/);
  });

  it('scores everything once it is back, loses nothing and dead-letters nothing', async () => {
    const ids = predictions.map(({ value }) => value.event_id);
    expect(new Set(ids)).toEqual(new Set([...before, ...during].map((record) => record.read!.event_id)));
    expect(deadLetters).toBe(0);
    expect(service.counters.rejected).toBe(0);
    expect(await eventually(() => service.readiness.ready, 30_000)).toBe(true);
  });
});

describe('a reader schema taken from a subject version in the registry', () => {
  const stream = sampleTransactions({ seed: 4_444 });
  const withoutIp = evolutionCases.find((evolution) => evolution.name.includes('removes a field'))!;
  let service: RunningService;
  let deadLetterCodes: string[];
  let predicted: number;
  let formatLine: Record<string, unknown> | undefined;

  beforeAll(async () => {
    const subject = uniqueName('reader-transactions-value');
    // Version 1 declares ip_address without a default, version 2 is the repository's schema: pinned to
    // version 1, a writer without ip_address cannot be read; the file's schema would read it.
    const strict = readerSchema();
    strict.fields = strict.fields.map((f) =>
      f.name === 'ip_address' ? { name: 'ip_address', type: 'string' } : f,
    );
    await registerSchema(registryUrl, subject, JSON.stringify(strict));
    await registerSchema(registryUrl, subject, JSON.stringify(readerSchema()));
    const started = await startRegistryService(
      'reader',
      registryUrl,
      {},
      { readerSubject: subject, readerVersion: '1' },
    );
    service = started.service;
    formatLine = started.lines.find((line) => line.msg === 'record formats');
    const writerId = await registerSchema(registryUrl, `${started.topics.input}-value`, withoutIp.schema);
    const sent: Sent[] = [];
    for (let index = 0; index < 30; index++) {
      const event = stream.next().value as CardTransaction;
      sent.push({
        key: event.account_id,
        value: wireFormat(writerId, writeDatum(withoutIp.schema, withoutIp.written(event))),
      });
    }
    await publish(started.topics.input, sent);
    const dead = await readRecords(kafka, `${started.topics.input}.DLT`, sent.length, 60_000);
    deadLetterCodes = dead.map(({ message }) => String(message.headers?.[DeadLetterHeaders.errorCode]));
    predicted = service.counters.predictionsOut;
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('reads with the pinned version, and says so at start', () => {
    expect(String(formatLine?.reader)).toMatch(
      /^registry subject reader-transactions-value-.* version 1 \(id \d+\)$/,
    );
    expect(deadLetterCodes).toEqual(Array(30).fill('SCHEMA_INCOMPATIBLE'));
    expect(predicted).toBe(0);
  });

  it('refuses to start when the subject does not exist', async () => {
    await expect(
      startRegistryService('no-reader', registryUrl, {}, { readerSubject: uniqueName('absent-value') }),
    ).rejects.toThrow(/registry subject absent-value-.* version latest does not exist/);
  });
});
