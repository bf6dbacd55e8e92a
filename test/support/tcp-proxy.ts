/**
 * A TCP relay that can be cut and restored on the same port: to a client behind it, its upstream looks
 * like a server that stopped answering and came back (connections refused meanwhile), while the upstream
 * itself keeps its state.
 */

import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Closes every connection and refuses new ones. */
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(upstreamHost: string, upstreamPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const relay = (client: Socket) => {
    const upstream = connect(upstreamPort, upstreamHost);
    track(client);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  };
  const listen = (server: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  const closeServer = (server: Server) => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };

  let server = createServer(relay);
  const port = await listen(server, 0);
  let open = true;
  return {
    port,
    async cut() {
      if (!open) return;
      open = false;
      await closeServer(server);
    },
    async restore() {
      if (open) return;
      server = createServer(relay);
      await listen(server, port);
      open = true;
    },
    async close() {
      if (open) await closeServer(server);
      open = false;
    },
  };
}
