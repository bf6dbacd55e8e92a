/**
 * The commands in the Confluent wire format, as separate processes against the real broker and registry:
 * `topics create --register-schemas` registers the three schemas, `produce` writes events as a registry
 * producer does, `serve` with auto-registration off finds its output schemas by look-up, `tail` decodes
 * the predictions through the registry. Without the registration, serve refuses to start and says how to
 * fix it; `config --show` shows no registry credential.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { packagePath } from '../../src/config/index.js';
import type { Prediction } from '../../src/routing/index.js';
import { readRecords, testKafka, uniqueName } from '../support/kafka.js';
import { runStreamscore } from '../support/processes.js';

const brokers = inject('kafkaBrokers');
const registryUrl = inject('registryUrl');
const kafka = testKafka(brokers);
const env = {
  ...process.env,
  STREAMSCORE_KAFKA_BROKERS: brokers.join(','),
  STREAMSCORE_INPUT_TOPIC: uniqueName('cli-registry-transactions'),
  STREAMSCORE_OUTPUT_TOPIC: uniqueName('cli-registry-predictions'),
  STREAMSCORE_INPUT_GROUP_ID: uniqueName('cli-registry-group'),
  STREAMSCORE_INPUT_FORMAT: 'confluent',
  STREAMSCORE_OUTPUT_FORMAT: 'confluent',
  STREAMSCORE_REGISTRY_URLS: registryUrl,
  STREAMSCORE_REGISTRY_AUTO_REGISTER: 'false',
  STREAMSCORE_LOG_LEVEL: 'warn',
};
const cli = [...['--import', 'tsx'], packagePath('src/cli/main.ts')];
const streamscore = (extra: Record<string, string>, ...args: string[]) =>
  runStreamscore(args, { ...env, ...extra });

async function latestId(subject: string): Promise<number> {
  const response = await fetch(`${registryUrl}/subjects/${subject}/versions/latest`);
  return ((await response.json()) as { id: number }).id;
}

describe('command line in the wire format', () => {
  let service: ChildProcess | undefined;

  afterAll(() => {
    service?.kill('SIGKILL');
  });

  it('refuses to serve when its output schemas are not registered and it may not register them', async () => {
    const failure = await streamscore({}, 'serve').then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain(`not registered under subject ${env.STREAMSCORE_OUTPUT_TOPIC}-value`);
    expect(failure?.stderr).toContain('--register-schemas');
  });

  it('registers the schemas, produces, serves, tails, and stops on SIGTERM', async () => {
    await streamscore({}, 'topics', 'create', '--partitions', '3', '--register-schemas');
    const inputId = await latestId(`${env.STREAMSCORE_INPUT_TOPIC}-value`);
    const outputId = await latestId(`${env.STREAMSCORE_OUTPUT_TOPIC}-value`);
    await streamscore({}, 'produce', '--count', '300', '--seed', '5');
    const events = await readRecords(kafka, env.STREAMSCORE_INPUT_TOPIC, 300, 30_000);
    expect(new Set(events.map(({ message }) => message.value!.readUInt32BE(1)))).toEqual(new Set([inputId]));

    service = spawn(process.execPath, [...cli, 'serve'], { env, cwd: packagePath(''), stdio: 'inherit' });
    const { stdout } = await streamscore({}, 'tail', '--from-beginning', '--json', '--limit', '300');
    const predictions = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Prediction);
    expect(new Set(predictions.map((p) => p.event_id)).size).toBe(300);
    const published = await readRecords(kafka, env.STREAMSCORE_OUTPUT_TOPIC, 300, 30_000);
    expect(new Set(published.map(({ message }) => message.value!.readUInt32BE(1)))).toEqual(
      new Set([outputId]),
    );

    service.kill('SIGTERM');
    const [code] = await once(service, 'exit');
    expect(code).toBe(0);
    service = undefined;
  });

  it('shows no registry credential in config --show', async () => {
    const withUser = registryUrl.replace('http://', 'http://scoring:url-s3cret@');
    const { stdout } = await streamscore(
      { STREAMSCORE_REGISTRY_URLS: withUser, STREAMSCORE_REGISTRY_PASSWORD: 'settings-s3cret' },
      'config',
      '--show',
    );
    expect(stdout).not.toMatch(/s3cret|scoring/);
    expect(JSON.parse(stdout).registry.password).toBe('***');
  });
});
