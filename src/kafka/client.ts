/** kafkajs clients built from the configuration, with their logs routed through pino. */
import { Kafka, type logCreator, logLevel, Partitioners, type Producer, type SASLOptions } from 'kafkajs';
import type { Config } from '../config/index.js';
import type { Logger } from '../telemetry/index.js';

const PINO_LEVELS: Record<logLevel, 'error' | 'warn' | 'info' | 'debug'> = {
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

const RECOVERED_BY_KAFKAJS = ['Response ', 'Crash: ', 'Restarting the consumer '];

function isRecoveredByKafkajs(message: string): boolean {
  return RECOVERED_BY_KAFKAJS.some((prefix) => message.startsWith(prefix));
}

function pinoLogCreator(logger: Logger): logCreator {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log }) => {
      const { message, ...details } = log;
      // kafkajs logs at ERROR what it then recovers from: every error response before its retrier
      // handles it (a coordinator still loading, a leader moving) and every consumer crash, restartable
      // or not. streamscore logs the crash itself at the level its outcome deserves, so an ERROR line
      // always means something an operator has to look at.
      const demoted = level === logLevel.ERROR && isRecoveredByKafkajs(message) ? 'warn' : PINO_LEVELS[level];
      kafkaLogger[demoted](details, message);
    };
}

function saslOptions(kafka: Config['kafka']): SASLOptions | undefined {
  const { saslMechanism: mechanism, saslUsername: username, saslPassword: password } = kafka;
  if (mechanism === 'none') return undefined;
  return { mechanism, username, password } as SASLOptions;
}

export function createKafkaClient(kafka: Config['kafka'], logger: Logger, clientSuffix = ''): Kafka {
  const sasl = saslOptions(kafka);
  return new Kafka({
    clientId: clientSuffix ? `${kafka.clientId}-${clientSuffix}` : kafka.clientId,
    brokers: [...kafka.brokers],
    ssl: kafka.ssl,
    ...(sasl ? { sasl } : {}),
    connectionTimeout: kafka.connectionTimeoutMs,
    requestTimeout: kafka.requestTimeoutMs,
    logLevel: kafkaLogLevel(logger.level),
    logCreator: pinoLogCreator(logger),
  });
}

/**
 * The one producer shape streamscore uses. Idempotence keeps a retried send from duplicating or
 * reordering records within a partition; the default partitioner is Java's murmur2, so a key lands on
 * the same partition number as with any Java producer. A transactional id makes it transactional.
 */
export function createProducer(kafka: Kafka, transactionalId?: string): Producer {
  return kafka.producer({
    allowAutoTopicCreation: false,
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    ...(transactionalId ? { transactionalId } : {}),
  });
}
