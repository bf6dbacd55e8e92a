/**
 * TLS and SASL as the configuration asks for them, the same for every client the process makes, and the
 * failures they cause at connection time turned into errors that name the setting to fix.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { rootCertificates } from 'node:tls';
import type { SASLOptions } from 'kafkajs';
import { ConfigurationError } from '../errors/index.js';
import type { KafkaSettings } from './client.js';

function readPem(path: string, setting: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigurationError('CONFIG_INVALID', `cannot read ${setting} (${path}): ${reason}`);
  }
}

/** kafkajs's `ssl`: false, or node's TLS options with the CA added to the system store, not replacing it. */
export function tlsOptions(kafka: KafkaSettings): false | ConnectionOptions {
  if (!kafka.ssl) return false;
  return {
    rejectUnauthorized: true,
    ...(kafka.sslCaFile ? { ca: [...rootCertificates, readPem(kafka.sslCaFile, 'kafka.sslCaFile')] } : {}),
    ...(kafka.sslCertFile
      ? {
          cert: readPem(kafka.sslCertFile, 'kafka.sslCertFile'),
          key: readPem(kafka.sslKeyFile, 'kafka.sslKeyFile'),
        }
      : {}),
    // Only for test set-ups whose certificates name no usable host; the chain is still verified.
    ...(kafka.sslVerifyHostname ? {} : { checkServerIdentity: () => undefined }),
  };
}

export function saslOptions(kafka: KafkaSettings): SASLOptions | undefined {
  const { saslMechanism: mechanism, saslUsername: username, saslPassword: password } = kafka;
  if (mechanism === 'none') return undefined;
  return { mechanism, username, password } as SASLOptions;
}

/** The error and its causes, outermost first: kafkajs wraps the socket's error in its own, once or twice. */
function causes(error: unknown): { name?: string; code?: string; message?: string }[] {
  const chain: { name?: string; code?: string; message?: string }[] = [];
  let current: unknown = error;
  while (current instanceof Error && chain.length < 5) {
    chain.push(current as Error & { code?: string });
    current = (current as Error & { cause?: unknown }).cause;
  }
  return chain;
}

const UNTRUSTED_BROKER = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
]);
const REFUSED_CLIENT_CERTIFICATE = new Set([
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
]);

/** Why the brokers and this process could not authenticate each other, naming the settings to check. */
function authenticationProblem(error: unknown, kafka: KafkaSettings): string | undefined {
  const chain = causes(error);
  const brokers = kafka.brokers.join(', ');
  if (chain.some((link) => link.name === 'KafkaJSSASLAuthenticationError')) {
    return `the brokers refused the ${kafka.saslMechanism} credentials of user '${kafka.saslUsername}': check kafka.saslUsername and kafka.saslPassword`;
  }
  const codes = chain.map((link) => link.code).filter((code): code is string => code !== undefined);
  if (codes.some((code) => UNTRUSTED_BROKER.has(code))) {
    return `the certificate of ${brokers} is not signed by a trusted CA: check kafka.sslCaFile (now ${kafka.sslCaFile || 'unset: the system store only'})`;
  }
  if (codes.includes('CERT_HAS_EXPIRED')) return `the certificate of ${brokers} has expired`;
  if (codes.includes('ERR_TLS_CERT_ALTNAME_INVALID')) {
    return `the certificate of the broker does not name the host connected to (${brokers}): check kafka.brokers against the certificate's names`;
  }
  if (codes.some((code) => REFUSED_CLIENT_CERTIFICATE.has(code))) {
    return kafka.sslCertFile
      ? `the brokers refused the client certificate kafka.sslCertFile (${kafka.sslCertFile}): expired, or not signed by a CA they trust`
      : 'the brokers require a client certificate: set kafka.sslCertFile and kafka.sslKeyFile';
  }
  return undefined;
}

/**
 * A failure to connect that no retry will mend becomes a ConfigurationError naming the settings (the
 * start stops with it); any other failure is returned as it came.
 */
export function explainConnectFailure(error: unknown, kafka: KafkaSettings): unknown {
  const problem = authenticationProblem(error, kafka);
  if (problem === undefined) return error;
  return new ConfigurationError('KAFKA_AUTHENTICATION_FAILED', problem, { cause: error });
}
