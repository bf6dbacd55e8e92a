import { type DestinationStream, type Logger, pino } from 'pino';

export type { DestinationStream, Logger };

// Credentials are masked whatever the configuration says.
const ALWAYS_REDACTED = ['saslPassword', 'password', 'token', 'authorization'];

/** Every path pino must mask for these field names: at the top of a line and one level down. */
function redactedPaths(fields: readonly string[]): string[] {
  return [...new Set([...fields, ...ALWAYS_REDACTED])].flatMap((field) => [field, `*.${field}`]);
}

export interface LoggerOptions {
  level: string;
  pretty: boolean;
  /** Field names masked in every line. */
  redact: readonly string[];
}

/** A pretty logger writes through pino-pretty; `destination` (tests) takes JSON lines instead. */
export function createLogger(options: LoggerOptions, destination?: DestinationStream): Logger {
  const settings = {
    name: 'streamscore',
    level: options.level,
    redact: { paths: redactedPaths(options.redact), censor: '[redacted]' },
  };
  if (destination) return pino(settings, destination);
  if (!options.pretty) return pino(settings);
  return pino({
    ...settings,
    transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l' } },
  });
}
