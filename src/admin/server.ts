/**
 * The admin HTTP server: operations on the running process (models now; health and metrics join it).
 * Small on purpose: node:http, JSON in and out (text where a route says so), a route table. It listens on localhost unless
 * configured otherwise, because rollback is an operation, not a public API.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/index.js';
import { ConfigurationError, StreamscoreError } from '../errors/index.js';
import type { Logger } from '../telemetry/index.js';
import { createAccessPolicy } from './access.js';

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
  /**
   * `body` is the request's JSON, undefined when it has none; `caller` who made the request, as the access
   * policy identified it (`token@10.0.3.7`, a certificate's CN, or an address on loopback).
   */
  handle(
    params: Record<string, string>,
    body: unknown,
    caller: string,
  ): Promise<AdminResponse> | AdminResponse;
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

function send(
  response: ServerResponse,
  { status, body, contentType }: AdminResponse,
  headers: Record<string, string> = {},
): void {
  const asText = contentType !== undefined && typeof body === 'string';
  const text = asText ? body : JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    'content-type': asText ? contentType : 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

export interface AdminRequest {
  method: string;
  /** The URL's path, without the query. */
  path: string;
  /** The request's JSON, undefined when it has none. */
  body: unknown;
  /** Who made the request, as the access policy identified it. */
  caller: string;
}

function failure(error: unknown): AdminResponse {
  const known = error instanceof StreamscoreError;
  return {
    status: known ? 409 : 500,
    body: {
      error: error instanceof Error ? error.message : 'internal error',
      ...(known ? { code: error.code } : {}),
    },
  };
}

/** Whether some route serves `path`, whatever the method. */
export function knowsPath(routes: readonly AdminRoute[], path: string): boolean {
  return routes.some((candidate) => match(candidate.path, path) !== undefined);
}

/** Runs the route `request` names; a failing route answers 409 with its code (a refused decision) or 500. */
export async function dispatch(routes: readonly AdminRoute[], request: AdminRequest): Promise<AdminResponse> {
  let pathKnown = false;
  for (const candidate of routes) {
    const params = match(candidate.path, request.path);
    if (!params) continue;
    pathKnown = true;
    if (candidate.method !== request.method) continue;
    try {
      return await candidate.handle(params, request.body, request.caller);
    } catch (error) {
      return failure(error);
    }
  }
  return pathKnown
    ? { status: 405, body: { error: 'method not allowed' } }
    : { status: 404, body: { error: 'not found' } };
}

/** Where requests for paths no route serves go: another thread's routes, for one. */
export type AdminFallback = (request: AdminRequest) => Promise<AdminResponse>;

async function route(
  routes: readonly AdminRoute[],
  request: IncomingMessage,
  caller: string,
  fallback: AdminFallback | undefined,
): Promise<AdminResponse> {
  const path = new URL(request.url ?? '/', 'http://admin').pathname;
  const admin = { method: request.method ?? 'GET', path, body: await readBody(request), caller };
  return fallback && !knowsPath(routes, path) ? fallback(admin) : dispatch(routes, admin);
}

function readPem(path: string, setting: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigurationError('CONFIG_INVALID', `cannot read ${setting} (${path}): ${reason}`);
  }
}

/** HTTPS when admin.tlsCertFile is set, asking for (not requiring) client certificates of admin.tlsClientCaFile. */
function listenerServer(settings: Config['admin'], listener: RequestListener) {
  if (!settings.tlsCertFile) return createServer(listener);
  const clientCa = settings.tlsClientCaFile
    ? { ca: readPem(settings.tlsClientCaFile, 'admin.tlsClientCaFile'), requestCert: true }
    : {};
  return createHttpsServer(
    {
      cert: readPem(settings.tlsCertFile, 'admin.tlsCertFile'),
      key: readPem(settings.tlsKeyFile, 'admin.tlsKeyFile'),
      // Readers (probes, scrapers) come without certificates; the access policy decides per request.
      rejectUnauthorized: false,
      ...clientCa,
    },
    listener,
  );
}

export async function startAdminServer(
  settings: Config['admin'],
  routes: readonly AdminRoute[],
  logger: Logger,
  fallback?: AdminFallback,
): Promise<AdminServer> {
  const { host, port } = settings;
  const access = createAccessPolicy({
    host,
    token: settings.token,
    clientCertificates: settings.tlsClientCaFile !== '',
  });
  const server = listenerServer(settings, (request, response) => {
    const verdict = access(request);
    if (!verdict.allowed) {
      logger.warn(
        {
          caller: request.socket.remoteAddress,
          method: request.method,
          path: request.url,
          status: verdict.status,
        },
        `admin request refused: ${verdict.reason}`,
      );
      const challenge: Record<string, string> =
        verdict.status === 401 ? { 'www-authenticate': 'Bearer realm="streamscore"' } : {};
      send(response, { status: verdict.status, body: { error: verdict.reason } }, challenge);
      return;
    }
    if (request.method !== 'GET') {
      logger.info({ caller: verdict.caller, method: request.method, path: request.url }, 'admin request');
    }
    route(routes, request, verdict.caller, fallback).then(
      (result) => send(response, result),
      (error: unknown) => send(response, failure(error)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const scheme = settings.tlsCertFile ? 'https' : 'http';
  return {
    url: `${scheme}://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
