/**
 * The registry client against a fake registry on a local HTTP server (the real one, Apicurio, is in the
 * integration tests): what it asks, what it caches, how failures are classified, and that credentials
 * never reach a message.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createRegistryClient, type RegistrySettings } from '../../src/registry/index.js';
import { testCa } from '../support/tls.js';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

type Reply = (seen: Seen) => { status: number; body?: unknown; delayMs?: number };

const servers: Server[] = [];

async function fakeRegistry(reply: Reply) {
  const seen: Seen[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = {
        method: request.method ?? '',
        url: request.url ?? '',
        authorization: request.headers.authorization,
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(entry);
      const { status, body, delayMs = 0 } = reply(entry);
      setTimeout(() => {
        response.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
        response.end(body === undefined ? '' : JSON.stringify(body));
      }, delayMs);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/apis/ccompat/v7`;
  return { url, seen };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

const settings = (urls: string[], extra: Partial<RegistrySettings> = {}): RegistrySettings => ({
  urls,
  username: '',
  password: '',
  caFile: '',
  certFile: '',
  keyFile: '',
  requestTimeoutMs: 2_000,
  ...extra,
});

const notFound = { status: 404, body: { error_code: 40403, message: 'Schema not found' } };

describe('schema registry client', () => {
  it('fetches a schema by id under the base path, once however many ask at the same time', async () => {
    const registry = await fakeRegistry(() => ({ status: 200, body: { schema: '"string"' }, delayMs: 50 }));
    const client = createRegistryClient(settings([registry.url]));
    const answers = await Promise.all([client.schemaById(3), client.schemaById(3), client.schemaById(3)]);
    expect(answers).toEqual(['"string"', '"string"', '"string"']);
    expect(await client.schemaById(3)).toBe('"string"');
    expect(registry.seen.map(({ method, url }) => `${method} ${url}`)).toEqual([
      'GET /apis/ccompat/v7/schemas/ids/3',
    ]);
    client.close();
  });

  it('answers undefined for an id the registry does not know, and asks again next time', async () => {
    const registry = await fakeRegistry(() => notFound);
    const client = createRegistryClient(settings([registry.url]));
    expect(await client.schemaById(99)).toBeUndefined();
    expect(await client.schemaById(99)).toBeUndefined();
    expect(registry.seen).toHaveLength(2);
    client.close();
  });

  it('registers, looks up and reads subject versions', async () => {
    const registry = await fakeRegistry(({ method, url }) => {
      if (method === 'POST' && url.endsWith('/subjects/payments-value/versions'))
        return { status: 200, body: { id: 12 } };
      if (method === 'POST' && url.endsWith('/subjects/payments-value'))
        return { status: 200, body: { id: 12, version: 1 } };
      if (method === 'POST')
        return { status: 404, body: { error_code: 40401, message: 'Subject not found' } };
      if (url.endsWith('/subjects/payments-value/versions/latest'))
        return { status: 200, body: { id: 12, version: 1, schema: '"long"' } };
      return notFound;
    });
    const client = createRegistryClient(settings([registry.url]));
    expect(await client.register('payments-value', '"long"')).toBe(12);
    expect(JSON.parse(registry.seen[0]!.body)).toEqual({ schema: '"long"' });
    expect(await client.lookup('payments-value', '"long"')).toBe(12);
    expect(await client.lookup('other-value', '"long"')).toBeUndefined();
    expect(await client.subjectVersion('payments-value', 'latest')).toEqual({ id: 12, schema: '"long"' });
    expect(await client.subjectVersion('payments-value', '7')).toBeUndefined();
    client.close();
  });

  it('turns a 5xx, a refusal and a silent registry into REGISTRY_UNAVAILABLE', async () => {
    const failing = await fakeRegistry(() => ({ status: 503, body: { message: 'overloaded' } }));
    const refusing = await fakeRegistry(() => ({ status: 401, body: { message: 'Unauthorized' } }));
    const silent = await fakeRegistry(() => ({ status: 200, body: { schema: '"int"' }, delayMs: 1_000 }));
    for (const [url, expected] of [
      [failing.url, /503 overloaded/],
      [refusing.url, /401 Unauthorized/],
      [silent.url, /no answer within 200 ms/],
      ['http://127.0.0.1:9/', /unreachable/],
    ] as const) {
      const client = createRegistryClient(settings([url], { requestTimeoutMs: 200 }));
      await expect(client.schemaById(1)).rejects.toMatchObject({
        code: 'REGISTRY_UNAVAILABLE',
        disposition: 'infrastructure',
        message: expect.stringMatching(expected),
      });
      client.close();
    }
  });

  it('tries the next URL when one fails, and keeps asking the one that answered', async () => {
    const down = await fakeRegistry(() => ({ status: 502 }));
    const up = await fakeRegistry(() => ({ status: 200, body: { schema: '"int"' } }));
    const client = createRegistryClient(settings([down.url, up.url]));
    expect(await client.schemaById(1)).toBe('"int"');
    expect(await client.schemaById(2)).toBe('"int"');
    expect(down.seen).toHaveLength(1);
    expect(up.seen).toHaveLength(2);
    client.close();
  });

  it('sends basic auth from the settings or the URL, and never shows the password', async () => {
    const registry = await fakeRegistry(() => ({ status: 500, body: { message: 'boom' } }));
    const withSettings = createRegistryClient(
      settings([registry.url], { username: 'svc', password: 's3cr3t-from-settings' }),
    );
    const inUrl = registry.url.replace('http://', 'http://svc2:s3cr3t%2Fin-url@');
    const withUrl = createRegistryClient(settings([inUrl]));
    const messages: string[] = [];
    for (const client of [withSettings, withUrl]) {
      await client.schemaById(1).catch((error: Error) => messages.push(error.message));
      client.close();
    }
    expect(registry.seen.map((seen) => seen.authorization)).toEqual([
      `Basic ${Buffer.from('svc:s3cr3t-from-settings').toString('base64')}`,
      `Basic ${Buffer.from('svc2:s3cr3t/in-url').toString('base64')}`,
    ]);
    expect(messages).toHaveLength(2);
    for (const message of messages) {
      expect(message).toContain('127.0.0.1');
      expect(message).not.toMatch(/s3cr3t|svc2/);
    }
  });

  it('refuses at construction a URL that is not http(s) or a PEM file that cannot be read', () => {
    expect(() => createRegistryClient(settings(['ftp://registry/']))).toThrow(/neither http nor https/);
    expect(() =>
      createRegistryClient(settings(['https://registry/'], { caFile: '/no/such/ca.pem' })),
    ).toThrow(/cannot read registry.caFile/);
  });

  it('trusts a registry over TLS through registry.caFile, and refuses it without', async () => {
    const authority = testCa('registry-ca');
    const { cert, key } = authority.issue('server');
    const server = createTlsServer(
      { cert: readFileSync(cert), key: readFileSync(key) },
      (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ schema: '"bytes"' }));
      },
    );
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const trusting = createRegistryClient(settings([url], { caFile: authority.ca.cert }));
    expect(await trusting.schemaById(1)).toBe('"bytes"');
    trusting.close();
    const untrusting = createRegistryClient(settings([url]));
    await expect(untrusting.schemaById(1)).rejects.toMatchObject({
      code: 'REGISTRY_UNAVAILABLE',
      message: expect.stringMatching(/unable to verify the first certificate|local issuer certificate/),
    });
    untrusting.close();
  });
});
