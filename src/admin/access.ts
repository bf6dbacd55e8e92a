/**
 * Who may change what the process serves. Reading (health, metrics, model status) is open: probes and
 * scrapers carry no credentials. A request that changes anything (rollback, promotion, challengers) must
 * present a client certificate signed by admin.tlsClientCaFile or the bearer token admin.token; with
 * neither configured, it is accepted only on a server listening on loopback, where whoever can reach it
 * already runs on the machine.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

export interface AccessSettings {
  host: string;
  token: string;
  /** Client certificates are asked for (HTTPS with admin.tlsClientCaFile). */
  clientCertificates: boolean;
}

export type Verdict =
  | { allowed: true; caller: string }
  | { allowed: false; status: 401 | 403; reason: string };

const READ_ONLY_METHODS = new Set(['GET', 'HEAD']);

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function sameToken(presented: string, expected: Buffer): boolean {
  const candidate = Buffer.from(presented);
  return candidate.length === expected.length && timingSafeEqual(candidate, expected);
}

export function createAccessPolicy(settings: AccessSettings): (request: IncomingMessage) => Verdict {
  const token = settings.token === '' ? undefined : Buffer.from(settings.token);
  const loopback = isLoopback(settings.host);

  return (request) => {
    const address = request.socket.remoteAddress ?? 'unknown';
    if (READ_ONLY_METHODS.has(request.method ?? '')) return { allowed: true, caller: address };

    const socket = request.socket as Partial<TLSSocket>;
    if (settings.clientCertificates && socket.authorized) {
      const subject = socket.getPeerCertificate?.().subject?.CN;
      return { allowed: true, caller: `${subject ?? 'certificate'}@${address}` };
    }
    const header = request.headers.authorization;
    if (token) {
      if (header === undefined) {
        return { allowed: false, status: 401, reason: 'this route needs admin.token as a bearer token' };
      }
      const presented = header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : '';
      return sameToken(presented, token)
        ? { allowed: true, caller: `token@${address}` }
        : { allowed: false, status: 403, reason: 'the bearer token is not admin.token' };
    }
    if (settings.clientCertificates) {
      return {
        allowed: false,
        status: 401,
        reason: 'this route needs a client certificate of admin.tlsClientCaFile',
      };
    }
    if (loopback) return { allowed: true, caller: address };
    return {
      allowed: false,
      status: 403,
      reason: `routes that change anything are off on ${settings.host} without admin.token or client certificates`,
    };
  };
}
