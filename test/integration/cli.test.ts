/**
 * The commands a user types, as separate processes on the real broker: create the topics, publish
 * sample events, run the service, read the predictions back, and stop the service with SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { packagePath } from '../../src/config/index.js';
import type { Prediction } from '../../src/routing/index.js';
import { uniqueName } from '../support/kafka.js';
import { runStreamscore } from '../support/processes.js';

const brokers = inject('kafkaBrokers');
const env = {
  ...process.env,
  STREAMSCORE_KAFKA_BROKERS: brokers.join(','),
  STREAMSCORE_INPUT_TOPIC: uniqueName('cli-transactions'),
  STREAMSCORE_OUTPUT_TOPIC: uniqueName('cli-predictions'),
  STREAMSCORE_INPUT_GROUP_ID: uniqueName('cli-group'),
  STREAMSCORE_LOG_LEVEL: 'warn',
};
const cli = [...['--import', 'tsx'], packagePath('src/cli/main.ts')];
const streamscore = (...args: string[]) => runStreamscore(args, env);

describe('command line', () => {
  let service: ChildProcess | undefined;

  afterAll(() => {
    service?.kill('SIGKILL');
  });

  it('refuses to serve when the topics are missing, naming them', async () => {
    const failure = await streamscore('serve').then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain(
      `TOPIC_MISSING: topic ${env.STREAMSCORE_INPUT_TOPIC}, ${env.STREAMSCORE_OUTPUT_TOPIC}, ${env.STREAMSCORE_INPUT_TOPIC}.DLT`,
    );
  });

  it('creates topics, produces, serves, tails, and stops on SIGTERM', async () => {
    await streamscore('topics', 'create', '--partitions', '3');
    await streamscore('produce', '--count', '500', '--seed', '3');
    service = spawn(process.execPath, [...cli, 'serve'], { env, cwd: packagePath(''), stdio: 'inherit' });

    const { stdout } = await streamscore('tail', '--from-beginning', '--json', '--limit', '500');
    const predictions = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Prediction);
    expect(predictions).toHaveLength(500);
    expect(new Set(predictions.map((p) => p.event_id)).size).toBe(500);
    expect(predictions.every((p) => p.model_name === 'fraud-gbm' && p.score >= 0 && p.score <= 1)).toBe(true);

    service.kill('SIGTERM');
    const [code] = await once(service, 'exit');
    expect(code).toBe(0);
    service = undefined;
  });

  it('lists every setting with its environment variable in serve --help', async () => {
    const { stdout } = await streamscore('serve', '--help');
    expect(stdout).toContain('STREAMSCORE_KAFKA_BROKERS');
    expect(stdout).toContain('STREAMSCORE_MODEL_REPOSITORY');
    expect(stdout).toContain('--config');
  });
});
