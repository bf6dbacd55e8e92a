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
