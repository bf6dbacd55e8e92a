/**
 * The admin API of a running service on every address, as in a container: with admin.token set, the
 * `streamscore models` commands change what serves only with the token (from STREAMSCORE_ADMIN_TOKEN_FILE),
 * and are refused with a message naming what is missing otherwise; reads stay open; the token never
 * reaches the service's log.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type RunningService, startService } from '../../src/service/index.js';
import { createTopics, testKafka, uniqueName } from '../support/kafka.js';
import { capturingLogger } from '../support/logs.js';
import { runStreamscore } from '../support/processes.js';
import { serviceTestConfig } from '../support/service.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers);
const TOKEN = `admin-${Math.random().toString(36).slice(2)}-token`;

describe('the admin API on every address, with a token', () => {
  let service: RunningService;
  let lines: Record<string, unknown>[];
  let tokenFile: string;
  let adminUrl: string;

  const streamscore = (env: Record<string, string>, ...args: string[]) =>
    runStreamscore([...args, '--admin-url', adminUrl], { ...process.env, ...env }).then(
      ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  beforeAll(async () => {
    const topics = {
      input: uniqueName('admin-transactions'),
      output: uniqueName('admin-predictions'),
      groupId: uniqueName('admin-group'),
    };
    await createTopics(
      kafka,
      [topics.input, topics.output, `${topics.input}.DLT`, `${topics.output}.comparisons`],
      1,
    );
    tokenFile = join(await mkdtemp(join(tmpdir(), 'admin-token-')), 'token');
    await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const captured = capturingLogger('info');
    lines = captured.lines;
    service = await startService(
      serviceTestConfig(brokers, topics, {
        admin: { host: '0.0.0.0', token: TOKEN },
        model: { pollIntervalMs: 0 },
      }),
      captured.logger,
    );
    adminUrl = service.adminUrl.replace('0.0.0.0', '127.0.0.1');
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('refuses a change from the command line without the token, naming what it needs', async () => {
    const refused = await streamscore({}, 'models', 'challengers', 'fraud-gbm', 'mlp:shadow:fraud-mlp@1:0.5');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('this route needs admin.token as a bearer token');
    expect(service.deployments.controller.state.challengers).toEqual([]);
  });

  it('makes the change with the token from STREAMSCORE_ADMIN_TOKEN_FILE', async () => {
    const accepted = await streamscore(
      { STREAMSCORE_ADMIN_TOKEN_FILE: tokenFile },
      'models',
      'challengers',
      'fraud-gbm',
      'mlp:shadow:fraud-mlp@1:0.5',
    );
    expect(accepted.code).toBe(0);
    expect(service.deployments.controller.state.challengers.map((challenger) => challenger.variant)).toEqual([
      'mlp',
    ]);
    // The decision records which instance took it and who asked.
    expect(service.deployments.controller.state.decided_by).toMatch(/^admin-api@.+ for token@127\.0\.0\.1$/);
  });

  it('asks every route that changes anything for the token, and lets each through with it', async () => {
    const changes: [string, string, unknown][] = [
      ['POST', '/v1/models/fraud-gbm/rollback', undefined],
      ['POST', '/v1/models/fraud-gbm/promote/nobody', undefined],
      ['POST', '/v1/models/fraud-gbm/challengers/nobody/withdraw', undefined],
      ['PUT', '/v1/models/fraud-gbm/challengers', { challengers: [] }],
    ];
    for (const [method, path, body] of changes) {
      const request = (headers: Record<string, string>) =>
        fetch(`${adminUrl}${path}`, {
          method,
          headers: { 'content-type': 'application/json', ...headers },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      expect((await request({})).status, `${method} ${path} without a token`).toBe(401);
      expect((await request({ authorization: 'Bearer not-the-token' })).status, `${method} ${path}`).toBe(
        403,
      );
      // Past the gate, the route itself answers: a decision, or why it cannot be taken (no standby...).
      const passed = await request({ authorization: `Bearer ${TOKEN}` });
      expect([200, 404, 409], `${method} ${path} with the token`).toContain(passed.status);
    }
  });

  it('keeps reading open to anyone', async () => {
    const listed = await streamscore({}, 'models', 'list');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('fraud-gbm: serving fraud-gbm@1');
  });

  it('logs the refusal with the caller, the change with who made it, and never the token', () => {
    expect(lines.find((line) => String(line.msg).startsWith('admin request refused'))).toMatchObject({
      level: 40,
      caller: '127.0.0.1',
      method: 'PUT',
    });
    expect(lines.find((line) => line.msg === 'admin request')).toMatchObject({ caller: 'token@127.0.0.1' });
    expect(JSON.stringify(lines)).not.toContain(TOKEN);
  });
});
