/**
 * kafkajs's log lines through pino, at the level their outcome deserves: what kafkajs retries or recovers
 * from by itself is not an ERROR, so an ERROR line always means an operator has to look.
 */
import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { pinoLogCreator } from '../../src/kafka/client.js';
import { capturingLogger } from '../support/logs.js';

const PINO = { debug: 20, warn: 40, error: 50 } as const;

function levelLogged(message: string, details: Record<string, unknown> = {}): number | undefined {
  const { logger, lines } = capturingLogger('debug');
  const log = pinoLogCreator(logger)(logLevel.DEBUG);
  log({
    namespace: 'test',
    level: logLevel.ERROR,
    label: 'ERROR',
    log: { timestamp: new Date().toISOString(), logger: 'kafkajs', message, ...details },
  });
  return lines.find((line) => line.msg === message)?.level as number | undefined;
}

describe('kafkajs ERROR lines', () => {
  it('logs an error response at DEBUG: a coordinator still loading on a fresh broker is routine', () => {
    expect(
      levelLogged('Response FindCoordinator(key: 10, version: 2)', {
        error: 'The group coordinator is not available',
      }),
    ).toBe(PINO.debug);
  });

  it('logs what kafkajs retries or recovers from at WARN', () => {
    expect(levelLogged('Connection error: connect ECONNREFUSED 127.0.0.1:9092')).toBe(PINO.warn);
    expect(levelLogged('Connection timeout')).toBe(PINO.warn);
    expect(
      levelLogged('Failed to connect to seed broker, trying another broker from the list: Connection error', {
        retryCount: 0,
        retryTime: 300,
      }),
    ).toBe(PINO.warn);
    expect(
      levelLogged(
        'Failed to send messages: The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing',
        { retryCount: 0, retryTime: 50 },
      ),
    ).toBe(PINO.warn);
    expect(levelLogged('Crash: KafkaJSNumberOfRetriesExceeded: Connection error')).toBe(PINO.warn);
    expect(levelLogged('The coordinator is not aware of this member, re-joining the group')).toBe(PINO.warn);
  });

  it('keeps the rest at ERROR', () => {
    expect(levelLogged('Offset out of range, resetting to default offset')).toBe(PINO.error);
    expect(levelLogged('SASL SCRAM SHA512 authentication failed')).toBe(PINO.error);
  });
});
