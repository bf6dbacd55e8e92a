/**
 * The admin HTTP server: operations on the running process (models now; health and metrics join it).
 * Small on purpose: node:http, JSON in and out (text where a route says so), a route table. It listens on localhost unless
 * configured otherwise, because rollback is an operation, not a public API.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamscoreError } from '../errors/index.js';

export interface AdminResponse {
  status: number;
  /** JSON, unless `contentType` is given and the body is text. */
  body: unknown;
  contentType?: string;
}

export interface AdminRoute {
  method: 'GET' | 'POST' | 'PUT';
  /** Path with `:param` segments, e.g. /v1/models/:name/rollback. */
  path: string;
  /** `body` is the request's JSON, undefined when it has none. */
  handle(params: Record<string, string>, body: unknown): Promise<AdminResponse> | AdminResponse;
}

// Admin requests are small decisions; anything larger is a mistake or an attack.
const MAX_BODY_BYTES = 64 * 1024;

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES)
      throw new StreamscoreError('CONFIG_INVALID', `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new StreamscoreError('CONFIG_INVALID', 'request body is not JSON');
  }
}

export interface AdminServer {
  readonly url: string;
  close(): Promise<void>;
}

function match(pattern: string, path: string): Record<string, string> | undefined {
  const expected = pattern.split('/');
  const actual = path.split('/');
  if (expected.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, segment] of expected.entries()) {
    const value = actual[index]!;
    if (segment.startsWith(':')) params[segment.slice(1)] = decodeURIComponent(value);
    else if (segment !== value) return undefined;
  }
  return params;
}

function send(response: ServerResponse, { status, body, contentType }: AdminResponse): void {
  const asText = contentType !== undefined && typeof body === 'string';
  const text = asText ? body : JSON.stringify(body);
  response.writeHead(status, {
    'content-type': asText ? contentType : 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

async function route(routes: readonly AdminRoute[], request: IncomingMessage): Promise<AdminResponse> {
  const path = new URL(request.url ?? '/', 'http://admin').pathname;
  let pathKnown = false;
  for (const candidate of routes) {
    const params = match(candidate.path, path);
    if (!params) continue;
    pathKnown = true;
    if (candidate.method === request.method) return candidate.handle(params, await readBody(request));
  }
  return pathKnown
    ? { status: 405, body: { error: 'method not allowed' } }
    : { status: 404, body: { error: 'not found' } };
}

export async function startAdminServer(
  host: string,
  port: number,
  routes: readonly AdminRoute[],
): Promise<AdminServer> {
  const server = createServer((request, response) => {
    route(routes, request).then(
      (result) => send(response, result),
      (error: unknown) => {
        const known = error instanceof StreamscoreError;
        send(response, {
          status: known ? 409 : 500,
          body: {
            error: error instanceof Error ? error.message : 'internal error',
            ...(known ? { code: error.code } : {}),
          },
        });
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
