import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminServer, startAdminServer } from '../../src/admin/index.js';
import { StreamscoreError } from '../../src/errors/index.js';
import { adminSettings } from '../support/admin.js';
import { capturingLogger } from '../support/logs.js';

describe('admin server', () => {
  let server: AdminServer;

  beforeAll(async () => {
    server = await startAdminServer(
      adminSettings(),
      [
        { method: 'GET', path: '/json', handle: () => ({ status: 200, body: { ok: true } }) },
        {
          method: 'GET',
          path: '/text',
          handle: () => ({ status: 200, body: 'metric_total 1\n', contentType: 'text/plain; version=0.0.4' }),
        },
        {
          method: 'GET',
          path: '/items/:name',
          handle: (params: Record<string, string>) => ({ status: 200, body: params }),
        },
        {
          method: 'POST',
          path: '/refuse',
          handle: () => {
            throw new StreamscoreError('MODEL_MANIFEST_INVALID', 'nothing to roll back to');
          },
        },
      ],
      capturingLogger('info').logger,
    );
  });

  afterAll(() => server.close());

  it('answers JSON by default', async () => {
    const response = await fetch(`${server.url}/json`);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ ok: true });
  });

  it('sends a text body as it is when the route names a content type', async () => {
    const response = await fetch(`${server.url}/text`);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4');
    expect(await response.text()).toBe('metric_total 1\n');
  });

  it('decodes path parameters', async () => {
    const response = await fetch(`${server.url}/items/fraud%20gbm`);
    expect(await response.json()).toEqual({ name: 'fraud gbm' });
  });

  it('tells an unknown path from a wrong method', async () => {
    expect((await fetch(`${server.url}/nowhere`)).status).toBe(404);
    expect((await fetch(`${server.url}/json`, { method: 'POST' })).status).toBe(405);
  });

  it('turns a refused operation into 409 with its stable code', async () => {
    const response = await fetch(`${server.url}/refuse`, { method: 'POST' });
    expect(response.status).toBe(409);
    expect(await response.json()).toEqual({
      error: 'nothing to roll back to',
      code: 'MODEL_MANIFEST_INVALID',
    });
  });
});
