/**
 * A client for the Confluent Schema Registry REST API (Apicurio's ccompat API too), on node:http(s).
 * A few calls, written here rather than taken from a library: the libraries decode asynchronously per
 * record, while streamscore fetches writer schemas once per batch and decodes synchronously.
 *
 * Every failure other than "not found" is an infrastructure failure (REGISTRY_UNAVAILABLE): the batch
 * waits and retries, no record is blamed. Several URLs are tried in turn; the one that answered last is
 * asked first. Credentials never appear in a message: URLs are shown without their user information.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { ConfigurationError, StreamscoreError } from '../errors/index.js';

export interface RegistrySettings {
  /** Base URLs, e.g. http://registry:8081 or Apicurio's http://registry:8080/apis/ccompat/v7. */
  urls: readonly string[];
  username: string;
  password: string;
  /** PEM files: a CA to trust besides the system store, and a client certificate and key for mutual TLS. */
  caFile: string;
  certFile: string;
  keyFile: string;
  requestTimeoutMs: number;
}

export interface RegisteredSchema {
  id: number;
  schema: string;
}

export interface RegistryClient {
  /** Schema text by global id; undefined when the registry has none. Cached for the process's life. */
  schemaById(id: number): Promise<string | undefined>;
  /** Registers `schema` under `subject` (a no-op when already there); its id. */
  register(subject: string, schema: string): Promise<number>;
  /** The id `schema` has under `subject`; undefined when it is not registered there. */
  lookup(subject: string, schema: string): Promise<number | undefined>;
  /** A subject's version (a number or 'latest'); undefined when there is no such subject or version. */
  subjectVersion(subject: string, version: string): Promise<RegisteredSchema | undefined>;
  close(): void;
}

interface Endpoint {
  base: URL;
  /** The URL as messages show it: no user information. */
  shown: string;
}

interface Answer {
  status: number;
  body: unknown;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

function endpointOf(url: string): { endpoint: Endpoint; username: string; password: string } {
  let base: URL;
  try {
    base = new URL(url.endsWith('/') ? url : `${url}/`);
  } catch (error) {
    throw new ConfigurationError('CONFIG_INVALID', 'registry.urls holds a value that is not a URL', {
      cause: error,
    });
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new ConfigurationError('CONFIG_INVALID', `registry URL ${base.host} is neither http nor https`);
  }
  const username = decodeURIComponent(base.username);
  const password = decodeURIComponent(base.password);
  base.username = '';
  base.password = '';
  return { endpoint: { base, shown: base.href.replace(/\/$/, '') }, username, password };
}

function readPem(path: string, setting: string): Buffer | undefined {
  if (path === '') return undefined;
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigurationError('CONFIG_INVALID', `cannot read ${setting} ${path}`, { cause: error });
  }
}

export function createRegistryClient(settings: RegistrySettings): RegistryClient {
  const parsed = settings.urls.map(endpointOf);
  if (parsed.length === 0) {
    throw new ConfigurationError('CONFIG_INVALID', 'registry.urls is empty');
  }
  const username = settings.username || parsed[0]!.username;
  const password = settings.password || parsed[0]!.password;
  const authorization =
    username === '' ? undefined : `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const endpoints = parsed.map(({ endpoint }) => endpoint);
  const tls = {
    ca: readPem(settings.caFile, 'registry.caFile'),
    cert: readPem(settings.certFile, 'registry.certFile'),
    key: readPem(settings.keyFile, 'registry.keyFile'),
  };
  const agents = {
    'http:': new http.Agent({ keepAlive: true }),
    'https:': new https.Agent({ keepAlive: true, ...tls }),
  };
  let preferred = 0;

  const send = (endpoint: Endpoint, method: string, path: string, payload?: string) =>
    new Promise<Answer>((resolve, reject) => {
      const url = new URL(path, endpoint.base);
      const transport = url.protocol === 'https:' ? https : http;
      const request = transport.request(
        url,
        {
          method,
          agent: agents[url.protocol as 'http:' | 'https:'],
          timeout: settings.requestTimeoutMs,
          headers: {
            accept: CONTENT_TYPE,
            ...(payload === undefined ? {} : { 'content-type': CONTENT_TYPE }),
            ...(authorization ? { authorization } : {}),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = text;
            try {
              body = text === '' ? undefined : JSON.parse(text);
            } catch {
              // Not JSON (a proxy's error page, say): kept as text for the message.
            }
            resolve({ status: response.statusCode ?? 0, body });
          });
        },
      );
      request.on('timeout', () =>
        request.destroy(new Error(`no answer within ${settings.requestTimeoutMs} ms`)),
      );
      request.on('error', reject);
      request.end(payload);
    });

  /** Asks each endpoint in turn until one answers below 500; 404 comes back as an answer. */
  const call = async (method: string, path: string, payload?: object): Promise<Answer> => {
    const body = payload === undefined ? undefined : JSON.stringify(payload);
    const failures: string[] = [];
    for (let attempt = 0; attempt < endpoints.length; attempt++) {
      const index = (preferred + attempt) % endpoints.length;
      const endpoint = endpoints[index]!;
      try {
        const answer = await send(endpoint, method, path, body);
        if (answer.status < 500) {
          preferred = index;
          if (answer.status < 300 || answer.status === 404) return answer;
          throw new StreamscoreError(
            'REGISTRY_UNAVAILABLE',
            `schema registry ${endpoint.shown} refused ${method} ${path}: ${answer.status} ${describe(answer.body)}`,
          );
        }
        failures.push(`${endpoint.shown}: ${answer.status} ${describe(answer.body)}`);
      } catch (error) {
        if (error instanceof StreamscoreError) throw error;
        failures.push(`${endpoint.shown}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    throw new StreamscoreError(
      'REGISTRY_UNAVAILABLE',
      `schema registry unreachable for ${method} ${path} (${failures.join('; ')})`,
    );
  };

  const schemas = new Map<number, string>();
  const inFlight = new Map<number, Promise<string | undefined>>();
  const subjectPath = (subject: string) => `subjects/${encodeURIComponent(subject)}`;

  return {
    schemaById(id) {
      const known = schemas.get(id);
      if (known !== undefined) return Promise.resolve(known);
      let pending = inFlight.get(id);
      if (pending === undefined) {
        pending = call('GET', `schemas/ids/${id}`)
          .then((answer) => {
            if (answer.status === 404) return undefined;
            const schema = schemaText(answer.body, `schema ${id}`);
            schemas.set(id, schema);
            return schema;
          })
          .finally(() => inFlight.delete(id));
        inFlight.set(id, pending);
      }
      return pending;
    },
    async register(subject, schema) {
      const answer = await call('POST', `${subjectPath(subject)}/versions`, { schema });
      if (answer.status === 404) {
        throw new StreamscoreError('REGISTRY_UNAVAILABLE', `registering under ${subject} answered 404`);
      }
      return idOf(answer.body, subject);
    },
    async lookup(subject, schema) {
      const answer = await call('POST', subjectPath(subject), { schema });
      return answer.status === 404 ? undefined : idOf(answer.body, subject);
    },
    async subjectVersion(subject, version) {
      const answer = await call('GET', `${subjectPath(subject)}/versions/${encodeURIComponent(version)}`);
      if (answer.status === 404) return undefined;
      return { id: idOf(answer.body, subject), schema: schemaText(answer.body, subject) };
    },
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}

function describe(body: unknown): string {
  if (typeof body === 'object' && body !== null && 'message' in body) return String(body.message);
  return typeof body === 'string' ? body.slice(0, 200) : '';
}

function idOf(body: unknown, what: string): number {
  if (typeof body === 'object' && body !== null && 'id' in body && Number.isInteger(body.id)) {
    return body.id as number;
  }
  throw new StreamscoreError('REGISTRY_UNAVAILABLE', `the registry's answer for ${what} carries no id`);
}

function schemaText(body: unknown, what: string): string {
  if (typeof body === 'object' && body !== null && 'schema' in body && typeof body.schema === 'string') {
    return body.schema;
  }
  throw new StreamscoreError('REGISTRY_UNAVAILABLE', `the registry's answer for ${what} carries no schema`);
}
