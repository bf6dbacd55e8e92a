/** kafkajs clients built from the configuration, with their logs routed through pino. */
import { Kafka, type logCreator, logLevel, type Producer } from 'kafkajs';
import type { Config } from '../config/index.js';
import type { Logger } from '../telemetry/index.js';
import { createPartitioner } from './partitioner.js';
import { saslOptions, tlsOptions } from './security.js';

export type KafkaSettings = Config['kafka'];

type PinoLevel = 'error' | 'warn' | 'info' | 'debug';

const PINO_LEVELS: Record<logLevel, PinoLevel> = {
  [logLevel.NOTHING]: 'error',
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

function kafkaLogLevel(level: string): logLevel {
  if (level === 'debug' || level === 'trace') return logLevel.DEBUG;
  if (level === 'info') return logLevel.INFO;
  if (level === 'warn') return logLevel.WARN;
  return logLevel.ERROR;
}

/** kafkajs's ERROR lines about what it then recovers from by itself: reconnecting, rejoining, restarting. */
const RECOVERED_BY_KAFKAJS = [
  'Crash: ',
  'Restarting the consumer ',
  'Connection error: ',
  'Connection timeout',
  'The coordinator is not aware of this member',
];

/**
 * kafkajs logs at ERROR much that is routine: every error response (a coordinator still loading on a
 * freshly started broker, a rebalance under way), before its retrier or its caller has decided anything,
 * and every failed attempt it is about to retry. An ERROR line from streamscore must mean an operator has
 * to look, so: error responses go to DEBUG (what they lead to is logged by whoever handles the error),
 * attempts kafkajs retries and failures it recovers from go to WARN, the rest stays ERROR.
 */
function levelOf(level: logLevel, message: string, details: Record<string, unknown>): PinoLevel {
  if (level !== logLevel.ERROR) return PINO_LEVELS[level];
  if (message.startsWith('Response ')) return 'debug';
  if ('retryCount' in details || RECOVERED_BY_KAFKAJS.some((prefix) => message.startsWith(prefix)))
    return 'warn';
  return 'error';
}

export function pinoLogCreator(logger: Logger): logCreator {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log }) => {
      const { message, ...details } = log;
      kafkaLogger[levelOf(level, message, details)](details, message);
    };
}

export function createKafkaClient(kafka: KafkaSettings, logger: Logger, clientSuffix = ''): Kafka {
  const sasl = saslOptions(kafka);
  return new Kafka({
    clientId: clientSuffix ? `${kafka.clientId}-${clientSuffix}` : kafka.clientId,
    brokers: [...kafka.brokers],
    ssl: tlsOptions(kafka),
    ...(sasl ? { sasl } : {}),
    connectionTimeout: kafka.connectionTimeoutMs,
    requestTimeout: kafka.requestTimeoutMs,
    logLevel: kafkaLogLevel(logger.level),
    logCreator: pinoLogCreator(logger),
  });
}

/**
 * The one producer shape streamscore uses. Idempotence keeps a retried send from duplicating or
 * reordering records within a partition. The partitioner is Java's murmur2, so a key lands on the same
 * partition number as with any Java producer; it is ours (./partitioner.ts), not kafkajs's
 * DefaultPartitioner, which gives the same numbers but pays for a 64-bit integer emulation and a new
 * array on every message. A transactional id makes it transactional.
 */
export function createProducer(kafka: Kafka, transactionalId?: string): Producer {
  return kafka.producer({
    allowAutoTopicCreation: false,
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner,
    ...(transactionalId ? { transactionalId } : {}),
  });
}
