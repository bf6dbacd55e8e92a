/**
 * streamscore against a broker that demands it authenticate, on the local broker's secure listeners
 * (scripts/kafka/kafka.sh: SASL_SSL with SCRAM users, and TLS requiring client certificates, from a
 * throw-away CA): events in, predictions out and offsets committed over SCRAM-SHA-512, SCRAM-SHA-256,
 * PLAIN and mutual TLS; a CLI command over SASL with its password from a file; and each way of failing to
 * authenticate stops the start with a message naming the setting to check, while no secret reaches any
 * log line.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ConfigInput } from '../../src/config/index.js';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { type RunningService, startService } from '../../src/service/index.js';
import {
  committedVersusEnd,
  createTopics,
  eventually,
  publishEvents,
  readRecords,
  testKafka,
  uniqueName,
  withAdmin,
} from '../support/kafka.js';
import { capturingLogger } from '../support/logs.js';
import { runStreamscore } from '../support/processes.js';
import { serviceTestConfig } from '../support/service.js';

const brokers = inject('kafkaBrokers');
const secure = inject('kafkaSecure');
if (!secure) {
  throw new Error(
    'the broker has no secure listeners (started by an older scripts/kafka/kafka.sh?): run `bash scripts/kafka/kafka.sh restart`',
  );
}
const kafka = testKafka(brokers);
const password = readFileSync(secure.passwordFile, 'utf8').trim();
/** Every line any service in this file logged, at debug level: none may hold a secret. */
const allLines: Record<string, unknown>[] = [];

const scram = (extra: ConfigInput['kafka'] = {}): ConfigInput['kafka'] => ({
  brokers: [secure.saslSsl],
  ssl: true,
  sslCaFile: secure.caFile,
  saslMechanism: 'scram-sha-512',
  saslUsername: secure.username,
  saslPassword: password,
  ...extra,
});
const mutualTls = (extra: ConfigInput['kafka'] = {}): ConfigInput['kafka'] => ({
  brokers: [secure.mtls],
  ssl: true,
  sslCaFile: secure.caFile,
  sslCertFile: secure.clientCert,
  sslKeyFile: secure.clientKey,
  ...extra,
});

async function topicsFor(name: string) {
  const topics = {
    input: uniqueName(`${name}-transactions`),
    output: uniqueName(`${name}-predictions`),
    groupId: uniqueName(`${name}-group`),
  };
  await createTopics(kafka, [topics.input, topics.output, `${topics.input}.DLT`], 3);
  return topics;
}

function start(kafkaSettings: ConfigInput['kafka'], topics: Awaited<ReturnType<typeof topicsFor>>) {
  const { logger, lines } = capturingLogger('debug');
  const config = serviceTestConfig(brokers, topics, { kafka: kafkaSettings, model: { pollIntervalMs: 0 } });
  return {
    lines,
    started: startService(config, logger).finally(() => allLines.push(...lines)),
  };
}

describe.each([
  ['SASL_SSL with SCRAM-SHA-512', scram()],
  ['SASL_SSL with SCRAM-SHA-256', scram({ saslMechanism: 'scram-sha-256' })],
  ['SASL_SSL with PLAIN', scram({ saslMechanism: 'plain' })],
  ['mutual TLS', mutualTls()],
])('scoring over %s', (name, settings) => {
  const stream = sampleTransactions({ seed: name.length });
  const events = Array.from({ length: 300 }, () => stream.next().value as CardTransaction);
  let service: RunningService;
  let topics: Awaited<ReturnType<typeof topicsFor>>;
  let predicted: number;

  beforeAll(async () => {
    topics = await topicsFor(name.replace(/\W+/g, '-').toLowerCase());
    service = await start(settings, topics).started;
    await publishEvents(kafka, topics.input, events);
    predicted = (await readRecords(kafka, topics.output, events.length, 60_000)).length;
    await eventually(async () => {
      const offsets = await committedVersusEnd(kafka, topics.groupId, topics.input);
      return offsets.every(({ committed, end }) => committed === end);
    }, 30_000);
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('scores every event and commits every offset', async () => {
    expect(predicted).toBe(events.length);
    const offsets = await committedVersusEnd(kafka, topics.groupId, topics.input);
    expect(offsets.every(({ committed, end }) => committed === end)).toBe(true);
  });
});

describe('a command over SASL_SSL with its password from a file', () => {
  it('creates the topics through the secure listener', async () => {
    const input = uniqueName('cli-secure-transactions');
    await runStreamscore(['topics', 'create'], {
      ...process.env,
      STREAMSCORE_KAFKA_BROKERS: secure.saslSsl,
      STREAMSCORE_KAFKA_SSL: 'true',
      STREAMSCORE_KAFKA_SSL_CA_FILE: secure.caFile,
      STREAMSCORE_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      STREAMSCORE_KAFKA_SASL_USERNAME: secure.username,
      STREAMSCORE_KAFKA_SASL_PASSWORD_FILE: secure.passwordFile,
      STREAMSCORE_INPUT_TOPIC: input,
      STREAMSCORE_OUTPUT_TOPIC: uniqueName('cli-secure-predictions'),
      STREAMSCORE_LOG_LEVEL: 'warn',
    });
    const topics = await withAdmin(kafka, (admin) => admin.listTopics());
    expect(topics).toContain(input);
    expect(topics).toContain(`${input}.DLT`);
  });
});

describe('failing to authenticate, at start', () => {
  const cases: [string, ConfigInput['kafka'], RegExp][] = [
    [
      'a wrong password',
      scram({ saslPassword: `${password}-wrong` }),
      /refused the scram-sha-512 credentials of user 'streamscore': check kafka\.saslUsername and kafka\.saslPassword/,
    ],
    [
      'an unknown CA',
      scram({ sslCaFile: secure.otherCaFile }),
      /not signed by a trusted CA: check kafka\.sslCaFile/,
    ],
    [
      'an expired client certificate',
      mutualTls({ sslCertFile: secure.expiredCert, sslKeyFile: secure.expiredKey }),
      /refused the client certificate kafka\.sslCertFile .*client-expired\.pem/,
    ],
    [
      'an untrusted client certificate',
      mutualTls({ sslCertFile: secure.untrustedCert, sslKeyFile: secure.untrustedKey }),
      /refused the client certificate kafka\.sslCertFile .*client-untrusted\.pem/,
    ],
    [
      'a broker certificate naming another host',
      scram({ brokers: [secure.saslSsl.replace('127.0.0.1', 'localhost')] }),
      /does not name the host connected to \(localhost:\d+\): check kafka\.brokers/,
    ],
  ];
  const outcomes = new Map<string, unknown>();

  beforeAll(async () => {
    const topics = await topicsFor('refused');
    // Side by side: each TLS failure takes kafkajs's connection retries (several seconds) to give up.
    await Promise.all(
      cases.map(async ([name, settings]) => {
        outcomes.set(
          name,
          await start(settings, topics).started.then(
            (service) => service.stop(),
            (error) => error,
          ),
        );
      }),
    );
  });

  it.each(cases)('stops on %s, naming the setting', (name, _settings, message) => {
    expect(outcomes.get(name)).toMatchObject({
      code: 'KAFKA_AUTHENTICATION_FAILED',
      message: expect.stringMatching(message),
    });
  });
});

describe('secrets', () => {
  it('appear in no log line of any service above, at debug level', () => {
    expect(allLines.length).toBeGreaterThan(100);
    const text = JSON.stringify(allLines);
    expect(text).not.toContain(password);
    for (const file of [secure.clientKey, secure.expiredKey, secure.untrustedKey]) {
      const key = readFileSync(file, 'utf8').split('\n')[1]!;
      expect(text).not.toContain(key);
    }
  });

  it('appear nowhere in config --show', async () => {
    const { stdout } = await runStreamscore(['config', '--show'], {
      ...process.env,
      STREAMSCORE_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      STREAMSCORE_KAFKA_SASL_USERNAME: secure.username,
      STREAMSCORE_KAFKA_SASL_PASSWORD_FILE: secure.passwordFile,
    });
    expect(stdout).not.toContain(password);
    expect(JSON.parse(stdout).kafka.saslPassword).toBe('***');
  });
});
