/**
 * A Kafka-protocol-aware TCP proxy for fault tests: it forwards frames between clients and one real broker,
 * counts requests by api key, and can withhold a response the broker already sent, so a test can make a
 * request's outcome unknown to the client (the broker acted on it, the client never hears back).
 */
import { connect, createServer, type Socket } from 'node:net';

/** The api keys the tests name. */
export const ApiKey = {
  Produce: 0,
  Fetch: 1,
  Metadata: 3,
  OffsetCommit: 8,
  FindCoordinator: 10,
  ApiVersions: 18,
  EndTxn: 26,
} as const;

export interface ProxiedRequest {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
}

export interface HeldResponse {
  readonly request: ProxiedRequest;
  /** Forwards the held response and every response queued behind it on its connection, in order. */
  release(): void;
  /** Closes the client's connection and its upstream instead: the client sees a closed connection. */
  drop(): void;
}

export interface KafkaProxy {
  /** `127.0.0.1:<port>`, to give clients instead of the broker's address. */
  readonly broker: string;
  readonly port: number;
  /** How many requests with this api key went to the broker. */
  requests(apiKey: number): number;
  /** Calls `listener` right after each request with this api key is written to the broker; returns an unsubscribe. */
  onRequest(apiKey: number, listener: (request: ProxiedRequest) => void): () => void;
  /** Withholds the response to the next request with this api key; resolves once that response is held. */
  holdNextResponse(apiKey: number): Promise<HeldResponse>;
  /** Closes the listener and every connection; rejects with the first protocol error the proxy met. */
  close(): Promise<void>;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Cuts a byte stream into whole frames: a 4-byte big-endian size, then that many bytes. */
class FrameSplitter {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Buffer[] = [];
    while (this.pending.length >= 4) {
      const end = 4 + this.pending.readInt32BE(0);
      if (this.pending.length < end) break;
      frames.push(this.pending.subarray(0, end));
      this.pending = this.pending.subarray(end);
    }
    return frames;
  }
}

class Cursor {
  constructor(
    private readonly frame: Buffer,
    public offset: number,
  ) {}

  int16(): number {
    const value = this.frame.readInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  int32(): number {
    const value = this.frame.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  /** STRING or NULLABLE_STRING (int16 length, -1 for null): the non-flexible encoding. */
  string(): string | null {
    const length = this.int16();
    if (length < 0) return null;
    const value = this.frame.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return value;
  }
}

/**
 * Rewrites, in place, the port of each broker entry advertising `upstream` to `port`. Only the layouts
 * kafkajs 2.2.4 can ask for (Metadata v0-v6, FindCoordinator v0-v2, all non-flexible, so the response
 * header is the correlation id alone); anything else throws, as leaving it unrewritten would let the
 * client bypass the proxy without the test noticing.
 */
function rewriteAdvertisedPorts(frame: Buffer, request: ProxiedRequest, upstream: Address, port: number) {
  const { apiKey, apiVersion } = request;
  const body = new Cursor(frame, 8);
  const rewriteBroker = (hasRack: boolean) => {
    body.int32(); // node id
    const host = body.string();
    const portOffset = body.offset;
    const advertisedPort = body.int32();
    if (host === upstream.host && advertisedPort === upstream.port) frame.writeInt32BE(port, portOffset);
    if (hasRack) body.string();
  };
  if (apiKey === ApiKey.Metadata && apiVersion <= 6) {
    if (apiVersion >= 3) body.int32(); // throttle time
    const brokers = body.int32();
    for (let index = 0; index < brokers; index++) rewriteBroker(apiVersion >= 1);
  } else if (apiKey === ApiKey.FindCoordinator && apiVersion <= 2) {
    if (apiVersion >= 1) body.int32(); // throttle time
    body.int16(); // error code; on errors the coordinator is -1/""/-1, which never matches
    if (apiVersion >= 1) body.string(); // error message
    rewriteBroker(false);
  } else {
    throw new Error(`kafka-proxy: no parser for api key ${apiKey} v${apiVersion} responses`);
  }
}

interface Address {
  host: string;
  port: number;
}

interface InFlight {
  request: ProxiedRequest;
  hold: Deferred<HeldResponse> | undefined;
}

export async function startKafkaProxy(upstreamBroker: string): Promise<KafkaProxy> {
  const [host = '', port = ''] = upstreamBroker.split(':');
  const upstream: Address = { host, port: Number(port) };
  const counts = new Map<number, number>();
  const listeners = new Map<number, Set<(request: ProxiedRequest) => void>>();
  const armed = new Map<number, Deferred<HeldResponse>[]>();
  const sockets = new Set<Socket>();
  const errors: Error[] = [];
  let proxyPort = 0;

  const serve = (client: Socket) => {
    const server = connect({ host: upstream.host, port: upstream.port });
    sockets.add(client).add(server);
    const inFlight: InFlight[] = [];
    // While a response is held, later ones queue behind it: Kafka clients match responses in order.
    let held: Buffer[] | undefined;
    let closed = false;

    const closeBoth = () => {
      if (closed) return;
      closed = true;
      client.destroy();
      server.destroy();
      sockets.delete(client);
      sockets.delete(server);
      const unanswered = new Error('kafka-proxy: connection closed before the held response arrived');
      for (const { hold } of inFlight) hold?.reject(unanswered);
    };
    const fail = (error: Error) => {
      errors.push(error);
      closeBoth();
    };
    const flush = () => {
      if (closed) return;
      for (const frame of held ?? []) client.write(frame);
      held = undefined;
    };

    const fromClient = new FrameSplitter();
    client.on('data', (chunk: Buffer) => {
      for (const frame of fromClient.push(chunk)) {
        const request = {
          apiKey: frame.readInt16BE(4),
          apiVersion: frame.readInt16BE(6),
          correlationId: frame.readInt32BE(8),
        };
        inFlight.push({ request, hold: armed.get(request.apiKey)?.shift() });
        counts.set(request.apiKey, (counts.get(request.apiKey) ?? 0) + 1);
        server.write(frame);
        for (const listener of listeners.get(request.apiKey) ?? []) listener(request);
      }
    });

    const fromServer = new FrameSplitter();
    server.on('data', (chunk: Buffer) => {
      for (const frame of fromServer.push(chunk)) {
        const correlationId = frame.readInt32BE(4);
        // Requests that expect no response (Produce with acks=0) are skipped over.
        const index = inFlight.findIndex(({ request }) => request.correlationId === correlationId);
        if (index < 0)
          return fail(new Error(`kafka-proxy: response to unknown correlation id ${correlationId}`));
        const { request, hold } = inFlight.splice(0, index + 1)[index]!;
        if (request.apiKey === ApiKey.Metadata || request.apiKey === ApiKey.FindCoordinator) {
          try {
            rewriteAdvertisedPorts(frame, request, upstream, proxyPort);
          } catch (error) {
            return fail(error as Error);
          }
        }
        if (held) held.push(frame);
        else if (hold) {
          held = [frame];
          hold.resolve({ request, release: flush, drop: closeBoth });
        } else client.write(frame);
      }
    });

    // Errors end in 'close'; a reset on one side is passed on as a closed connection to the other.
    client.on('error', () => undefined).on('close', closeBoth);
    server.on('error', () => undefined).on('close', closeBoth);
  };

  const listener = createServer(serve);
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject).listen(0, '127.0.0.1', resolve);
  });
  const address = listener.address();
  if (address === null || typeof address === 'string') throw new Error('kafka-proxy: no TCP address');
  proxyPort = address.port;

  return {
    broker: `127.0.0.1:${proxyPort}`,
    port: proxyPort,
    requests: (apiKey) => counts.get(apiKey) ?? 0,
    onRequest(apiKey, listener) {
      const set = listeners.get(apiKey) ?? new Set();
      listeners.set(apiKey, set.add(listener));
      return () => set.delete(listener);
    },
    holdNextResponse(apiKey) {
      const hold = deferred<HeldResponse>();
      // Marked handled here, so a hold that close() cancels is no unhandled rejection; awaiting still throws.
      hold.promise.catch(() => undefined);
      armed.set(apiKey, [...(armed.get(apiKey) ?? []), hold]);
      return hold.promise;
    },
    async close() {
      const closing = new Promise<void>((resolve) => listener.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      for (const holds of armed.values()) {
        for (const hold of holds) hold.reject(new Error('kafka-proxy: closed before the request was seen'));
      }
      armed.clear();
      await closing;
      if (errors.length > 0) throw errors[0];
    },
  };
}
