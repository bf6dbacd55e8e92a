/**
 * Who may call the admin routes that change anything, on real servers: reads stay open; a rollback needs
 * the bearer token or a client certificate when one is configured, and is refused with 401/403 and a log
 * line naming the caller otherwise; with no credential configured it is accepted on loopback only.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AdminRoute, type AdminServer, startAdminServer } from '../../src/admin/index.js';
import type { Config } from '../../src/config/index.js';
import { adminSettings } from '../support/admin.js';
import { capturingLogger } from '../support/logs.js';
import { type Issued, testCa } from '../support/tls.js';

const TOKEN = 'a-long-admin-token-0123456789';
let rollbacks = 0;
const routes: AdminRoute[] = [
  { method: 'GET', path: '/v1/models', handle: () => ({ status: 200, body: { serving: 'fraud-gbm@1' } }) },
  {
    method: 'POST',
    path: '/v1/models/:name/rollback',
    handle: () => {
      rollbacks += 1;
      return { status: 200, body: { rolledBack: true } };
    },
  },
];

interface Call {
  method?: string;
  token?: string;
  /** For HTTPS: the CA to trust, and optionally a client certificate. */
  ca?: string;
  client?: Issued;
}

/** One request with node's own client (fetch cannot present a client certificate). */
function call(url: string, path: string, options: Call = {}): Promise<{ status: number; body: string }> {
  const target = new URL(path, url);
  const headers = options.token ? { authorization: `Bearer ${options.token}` } : {};
  const tls = url.startsWith('https')
    ? {
        ca: readFileSync(options.ca!),
        ...(options.client
          ? { cert: readFileSync(options.client.cert), key: readFileSync(options.client.key) }
          : {}),
      }
    : {};
  const send = url.startsWith('https') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(target, { method: options.method ?? 'GET', headers, ...tls }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

const servers: AdminServer[] = [];
async function serve(settings: Partial<Config['admin']>) {
  const { logger, lines } = capturingLogger('info');
  const server = await startAdminServer(adminSettings(settings), routes, logger);
  servers.push(server);
  // A server on every address is reached through loopback in the test; it does not know that.
  return { url: server.url.replace('0.0.0.0', '127.0.0.1'), lines };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

const rollback = { method: 'POST' };

describe('admin access', () => {
  it('accepts a rollback on loopback without credentials, as before any were configured', async () => {
    const { url } = await serve({});
    expect((await call(url, '/v1/models/fraud-gbm/rollback', rollback)).status).toBe(200);
  });

  it('refuses every change on a non-loopback address without a token, and keeps reads open', async () => {
    const { url, lines } = await serve({ host: '0.0.0.0' });
    const before = rollbacks;
    const refused = await call(url, '/v1/models/fraud-gbm/rollback', rollback);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).error).toMatch(/off on 0\.0\.0\.0 without admin\.token/);
    expect(rollbacks).toBe(before);
    expect((await call(url, '/v1/models')).status).toBe(200);
    const line = lines.find((entry) => entry.msg?.toString().startsWith('admin request refused'));
    expect(line).toMatchObject({ level: 40, caller: '127.0.0.1', method: 'POST', status: 403 });
  });

  it('asks for the token (401), refuses a wrong one (403), accepts the right one', async () => {
    const { url, lines } = await serve({ host: '0.0.0.0', token: TOKEN });
    const path = '/v1/models/fraud-gbm/rollback';
    expect((await call(url, path, rollback)).status).toBe(401);
    expect((await call(url, path, { ...rollback, token: `${TOKEN}x` })).status).toBe(403);
    expect((await call(url, path, { ...rollback, token: TOKEN.slice(0, -1) })).status).toBe(403);
    const before = rollbacks;
    expect((await call(url, path, { ...rollback, token: TOKEN })).status).toBe(200);
    expect(rollbacks).toBe(before + 1);
    expect((await call(url, '/v1/models')).status).toBe(200);
    expect(JSON.stringify(lines)).not.toContain(TOKEN.slice(0, 12));
  });

  describe('over HTTPS with client certificates', () => {
    let trusted: ReturnType<typeof testCa>;
    let server: Issued;
    let operator: Issued;
    let stranger: Issued;

    beforeAll(() => {
      trusted = testCa('admin-ca');
      server = trusted.issue('server');
      operator = trusted.issue('operator');
      stranger = testCa('other-ca').issue('stranger');
    });

    it('accepts a certificate of the client CA, refuses none (401) and one of another CA (401)', async () => {
      const { url } = await serve({
        host: '0.0.0.0',
        tlsCertFile: server.cert,
        tlsKeyFile: server.key,
        tlsClientCaFile: trusted.ca.cert,
      });
      expect(url).toMatch(/^https:/);
      const path = '/v1/models/fraud-gbm/rollback';
      const ca = trusted.ca.cert;
      expect((await call(url, path, { ...rollback, ca, client: operator })).status).toBe(200);
      expect((await call(url, path, { ...rollback, ca })).status).toBe(401);
      expect((await call(url, path, { ...rollback, ca, client: stranger })).status).toBe(401);
      expect((await call(url, '/v1/models', { ca })).status).toBe(200);
    });

    it('takes the token instead of a certificate when both are configured', async () => {
      const { url } = await serve({
        host: '0.0.0.0',
        token: TOKEN,
        tlsCertFile: server.cert,
        tlsKeyFile: server.key,
        tlsClientCaFile: trusted.ca.cert,
      });
      const ca = trusted.ca.cert;
      const path = '/v1/models/fraud-gbm/rollback';
      expect((await call(url, path, { ...rollback, ca, token: TOKEN })).status).toBe(200);
      expect((await call(url, path, { ...rollback, ca, client: operator })).status).toBe(200);
      expect((await call(url, path, { ...rollback, ca, client: stranger })).status).toBe(401);
    });
  });
});
