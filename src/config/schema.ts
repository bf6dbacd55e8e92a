/**
 * The one configuration of a streamscore process. Every value has a default that runs the embedded
 * sample (local broker, sample model); a JSON file and STREAMSCORE_* environment variables override it.
 */
import { z } from 'zod';
import { CHALLENGER_SPEC } from '../deployments/state.js';
import { monitoringSchema } from './monitoring.js';
import { packagePath } from './package-path.js';

const positiveInt = () => z.number().int().positive();

export const kafkaSchema = z.object({
  brokers: z
    .array(z.string().regex(/^[^\s:]+:\d+$/, 'expected host:port'))
    .min(1)
    .default(['127.0.0.1:9092'])
    .describe('Bootstrap brokers, host:port, comma-separated in the environment.'),
  clientId: z.string().min(1).default('streamscore').describe('Kafka client.id prefix.'),
  ssl: z.boolean().default(false).describe('Connect with TLS (the system CA store, plus kafka.sslCaFile).'),
  sslCaFile: z
    .string()
    .default('')
    .describe('PEM file of CAs trusted for the brokers, besides the system store.'),
  sslCertFile: z.string().default('').describe('PEM client certificate, for brokers requiring mutual TLS.'),
  sslKeyFile: z.string().default('').describe('PEM key of kafka.sslCertFile (never logged).'),
  sslVerifyHostname: z
    .boolean()
    .default(true)
    .describe("Check that a broker's certificate names the host connected to; false only for tests."),
  saslMechanism: z
    .enum(['none', 'plain', 'scram-sha-256', 'scram-sha-512'])
    .default('none')
    .describe('SASL mechanism; username and password are then required.'),
  saslUsername: z.string().default('').describe('SASL username.'),
  saslPassword: z
    .string()
    .default('')
    .describe('SASL password (never logged); or STREAMSCORE_KAFKA_SASL_PASSWORD_FILE, a file holding it.'),
  connectionTimeoutMs: positiveInt()
    .default(3_000) // three seconds
    .describe('Time to establish a broker connection.'),
  requestTimeoutMs: positiveInt()
    .default(30_000) // Kafka's own default
    .describe('Time a broker request may take.'),
});

export const inputSchema = z.object({
  topic: z.string().min(1).default('transactions').describe('Topic of input events.'),
  groupId: z
    .string()
    .min(1)
    .default('streamscore')
    .describe('Consumer group; instances sharing it split the partitions.'),
  schema: z
    .string()
    .default(packagePath('schemas/card-transaction.avsc'))
    .describe(
      'Avro schema (.avsc) the features read events as: the writer schema for format avro, the reader schema for confluent.',
    ),
  format: z
    .enum(['avro', 'confluent'])
    .default('avro')
    .describe(
      'avro = plain Avro binary in input.schema; confluent = the Confluent wire format, writer schemas from the registry.',
    ),
  readerSubject: z
    .string()
    .default('')
    .describe('Registry subject whose schema is the reader schema (format confluent); empty = input.schema.'),
  readerVersion: z
    .string()
    .regex(/^(latest|\d+)$/, 'latest or a version number')
    .default('latest')
    .describe('Version of input.readerSubject, read once at start: latest or a number.'),
  fromBeginning: z
    .boolean()
    .default(true)
    .describe('Where a group with no committed offset starts: true = earliest, so no event is skipped.'),
  loops: z
    .union([z.literal('auto'), z.coerce.number().int().positive()])
    .default('auto')
    .describe(
      'Consumer loops in this process, each on its own thread and a member of input.groupId with its own ' +
        'partitions; auto = one per core (the container CPU limit honoured).',
    ),
  partitionsConsumedConcurrently: positiveInt()
    .default(3)
    .describe('Partitions whose batches are processed at the same time.'),
  maxBytesPerPartition: positiveInt()
    .default(1_048_576) // 1 MiB, as Kafka's max.partition.fetch.bytes
    .describe('Most bytes fetched per partition per request; bounds a batch.'),
  sessionTimeoutMs: positiveInt().default(30_000).describe('Consumer group session timeout.'),
  // Below Kafka's 3 s: a member learns of a rebalance at its next heartbeat, and every loop of a starting
  // process, every scale event, waits for the slowest member to learn it.
  heartbeatIntervalMs: positiveInt()
    .default(1_000)
    .describe('How often a loop heartbeats to the group coordinator: how soon it learns of a rebalance.'),
});

export const outputSchema = z.object({
  topic: z.string().min(1).default('predictions').describe('Topic predictions are published to.'),
  schema: z
    .string()
    .default(packagePath('schemas/prediction.avsc'))
    .describe('Avro schema (.avsc) predictions are written with.'),
  format: z
    .enum(['avro', 'confluent'])
    .default('avro')
    .describe(
      'avro = plain Avro binary; confluent = the wire format, predictions and comparisons under registry ids.',
    ),
  compression: z.enum(['none', 'gzip']).default('none').describe('Compression of output batches.'),
  exactlyOnce: z
    .boolean()
    .default(false)
    .describe(
      'Publish predictions, dead letters and input offsets in one Kafka transaction per partition batch; ' +
        'read_committed consumers then see each prediction once.',
    ),
  retryInitialMs: positiveInt()
    .default(200)
    .describe('First wait before retrying a failed publish or commit; doubles up to retryMaxMs.'),
  retryMaxMs: positiveInt()
    .default(10_000) // ten seconds
    .describe('Longest wait between retries of a failed publish or commit.'),
});

export const deadLetterSchema = z.object({
  topic: z
    .string()
    .default('')
    .describe('Topic for records that cannot be scored; empty = <input.topic>.DLT.'),
});

export const registrySchema = z.object({
  urls: z
    .array(z.url({ protocol: /^https?$/ }))
    .default([])
    .describe(
      "Schema registry base URLs, comma-separated, tried in turn (Apicurio's: <host>/apis/ccompat/v7); needed by format confluent.",
    ),
  username: z.string().default('').describe('Registry basic-auth user.'),
  password: z
    .string()
    .default('')
    .describe('Registry basic-auth password (never logged); or STREAMSCORE_REGISTRY_PASSWORD_FILE.'),
  caFile: z
    .string()
    .default('')
    .describe('PEM file of a CA trusted for the registry, besides the system store.'),
  certFile: z.string().default('').describe('PEM client certificate for a registry requiring mutual TLS.'),
  keyFile: z.string().default('').describe('PEM key of registry.certFile.'),
  autoRegister: z
    .boolean()
    .default(true)
    .describe(
      'Register the output schemas at start; false = look them up, failing at start when absent (the usual production setting).',
    ),
  subjectStrategy: z
    .enum(['topic', 'record'])
    .default('topic')
    .describe('Output subjects: topic = <topic>-value (TopicNameStrategy), record = the record full name.'),
  requestTimeoutMs: positiveInt().default(10_000).describe('Time a registry request may take.'),
});

export const shutdownSchema = z.object({
  timeoutMs: positiveInt()
    .default(20_000) // well inside Kubernetes' 30 s grace period
    .describe(
      'Deadline for a graceful stop on SIGTERM or SIGINT; past it the process exits without committing.',
    ),
});

export const modelSchema = z.object({
  repository: z
    .string()
    .default(packagePath('models'))
    .describe('Model repository: <repository>/<name>/<version>/ holds manifest.json and the model file.'),
  name: z.string().min(1).default('fraud-gbm').describe('Model to serve.'),
  version: z
    .string()
    .min(1)
    .default('latest')
    .describe('Version policy: latest (highest version, hot-reloaded) or one pinned version.'),
  pollIntervalMs: z
    .number()
    .int()
    .nonnegative()
    .default(2_000) // two seconds
    .describe('How often the repository is checked for new versions; 0 turns hot reload off.'),
  variant: z.string().min(1).default('primary').describe('Variant name written on every prediction.'),
  workers: z
    .union([z.literal('auto'), z.coerce.number().int().nonnegative()])
    .default('auto')
    .describe(
      'Inference worker threads (of each loop); auto = cores - 1 (at least 1) with one loop, 0 with several; ' +
        '0 runs onnxruntime on the loop thread.',
    ),
  intraOpThreads: positiveInt().default(1).describe('onnxruntime threads inside one operator, per worker.'),
  maxBatchSize: positiveInt().default(256).describe('Most rows in one inference call.'),
  maxDelayMicros: z
    .number()
    .int()
    .nonnegative()
    .default(1_000) // one millisecond
    .describe('Longest a row waits for its inference batch to fill, from the first queued row.'),
  maxQueuedRows: positiveInt()
    .default(20_000)
    .describe('Rows waiting for or in inference beyond which the consumer pauses its partitions.'),
  cacheEnabled: z.boolean().default(true).describe('Cache scores by model version and exact feature row.'),
  cacheMaxEntries: positiveInt().default(100_000).describe('Most cached predictions.'),
  publicKeyFile: z
    .string()
    .default('')
    .describe(
      'PEM Ed25519 public key: every version must carry manifest.json.sig, its signature over manifest.json.',
    ),
  cacheTtlMs: positiveInt()
    .default(300_000) // five minutes
    .describe('How long a cached prediction may be served.'),
});

export const deploymentsSchema = z.object({
  topic: z
    .string()
    .default('')
    .describe(
      'Compacted control topic holding the deployment decisions every instance applies; empty = <input.groupId>.deployments.',
    ),
});

export const experimentsSchema = z.object({
  challengers: z
    .array(z.string().regex(CHALLENGER_SPEC, 'expected <variant>:<shadow|canary>:<model>@<version>:<share>'))
    .default([])
    .describe(
      'Challengers until the control topic holds a decision, as <variant>:<shadow|canary>:<model>@<version>:<share> (share of keys, 0 to 1).',
    ),
  comparisonTopic: z
    .string()
    .default('')
    .describe('Topic of shadow comparisons; empty = <output.topic>.comparisons.'),
  shadowDeadlineMs: positiveInt()
    .default(100)
    .describe('Longest a batch waits for its shadows once the champion has scored; later ones are timeouts.'),
  shedQueuedRows: positiveInt()
    .default(10_000)
    .describe('Rows waiting for or in inference beyond which shadow work is shed before champion work.'),
  windowMs: positiveInt()
    .default(60_000) // one minute
    .describe('Window of the running comparison figures and of the canary rollback rules.'),
  rollbackMinSamples: positiveInt()
    .default(500)
    .describe('Canary predictions a window needs before the rollback rules judge it.'),
  rollbackMaxErrorRate: z
    .number()
    .min(0)
    .max(1)
    .default(0.01)
    .describe('Share of canary inference errors (and timeouts) beyond which the canary is rolled back.'),
  rollbackMaxP99Ms: positiveInt()
    .default(250)
    .describe('Canary p99 inference latency beyond which it is rolled back.'),
  rollbackMaxPositiveRate: z
    .number()
    .min(0)
    .max(1)
    .default(1)
    .describe("Share of the canary's positive labels beyond which it is rolled back; 1 = no limit."),
});

export const adminSchema = z.object({
  host: z
    .string()
    .default('127.0.0.1')
    .describe('Address of the admin HTTP server (model admin); 0.0.0.0 in a container.'),
  port: z
    .number()
    .int()
    .min(0)
    .max(65_535)
    .default(9_464)
    .describe('Port of the admin HTTP server; 0 picks a free one.'),
  token: z
    .string()
    .default('')
    .describe(
      'Bearer token the routes that change anything require (never logged); or STREAMSCORE_ADMIN_TOKEN_FILE. ' +
        'Without one they are refused unless the server listens on loopback.',
    ),
  tlsCertFile: z.string().default('').describe('PEM certificate: the admin server speaks HTTPS.'),
  tlsKeyFile: z.string().default('').describe('PEM key of admin.tlsCertFile.'),
  tlsClientCaFile: z
    .string()
    .default('')
    .describe('PEM CAs whose client certificates may call the routes that change anything (HTTPS only).'),
});

export const logSchema = z.object({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info').describe('Log level.'),
  pretty: z.boolean().default(false).describe('Human-readable logs instead of JSON lines.'),
  redact: z
    .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a field name'))
    .default(['card_number', 'account_id', 'device_id', 'ip_address'])
    .describe('Fields masked wherever they appear in a log line (passwords always are).'),
});

export const healthSchema = z.object({
  stallTimeoutMs: positiveInt()
    .default(60_000) // one minute
    .describe('A partition with records waiting and no batch delivered for this long makes /readyz fail.'),
});

export const configSchema = z
  .object({
    kafka: kafkaSchema.prefault({}),
    input: inputSchema.prefault({}),
    output: outputSchema.prefault({}),
    deadLetter: deadLetterSchema.prefault({}),
    registry: registrySchema.prefault({}),
    model: modelSchema.prefault({}),
    deployments: deploymentsSchema.prefault({}),
    experiments: experimentsSchema.prefault({}),
    monitoring: monitoringSchema.prefault({}),
    admin: adminSchema.prefault({}),
    log: logSchema.prefault({}),
    shutdown: shutdownSchema.prefault({}),
    health: healthSchema.prefault({}),
  })
  .superRefine((config, context) => {
    if (config.kafka.saslMechanism !== 'none' && (!config.kafka.saslUsername || !config.kafka.saslPassword)) {
      context.addIssue({
        code: 'custom',
        path: ['kafka', 'saslUsername'],
        message: `SASL mechanism ${config.kafka.saslMechanism} needs a username and a password`,
      });
    }
    const { kafka, admin } = config;
    if (!kafka.ssl && (kafka.sslCaFile || kafka.sslCertFile || kafka.sslKeyFile)) {
      context.addIssue({
        code: 'custom',
        path: ['kafka', 'ssl'],
        message: 'kafka.sslCaFile, sslCertFile and sslKeyFile need kafka.ssl true',
      });
    }
    if (Boolean(kafka.sslCertFile) !== Boolean(kafka.sslKeyFile)) {
      context.addIssue({
        code: 'custom',
        path: ['kafka', 'sslKeyFile'],
        message: 'a client certificate needs its key, and a key its certificate',
      });
    }
    if (Boolean(admin.tlsCertFile) !== Boolean(admin.tlsKeyFile)) {
      context.addIssue({
        code: 'custom',
        path: ['admin', 'tlsKeyFile'],
        message: 'the admin server needs both a certificate and its key for HTTPS',
      });
    }
    if (admin.tlsClientCaFile && !admin.tlsCertFile) {
      context.addIssue({
        code: 'custom',
        path: ['admin', 'tlsClientCaFile'],
        message: 'client certificates need the admin server on HTTPS (admin.tlsCertFile)',
      });
    }
    const confluent = [config.input, config.output].some(({ format }) => format === 'confluent');
    if ((confluent || config.input.readerSubject) && config.registry.urls.length === 0) {
      context.addIssue({
        code: 'custom',
        path: ['registry', 'urls'],
        message: 'the Confluent wire format and input.readerSubject need a schema registry URL',
      });
    }
    if (config.input.readerSubject && config.input.format !== 'confluent') {
      context.addIssue({
        code: 'custom',
        path: ['input', 'readerSubject'],
        message: 'a reader schema from the registry applies to input.format confluent only',
      });
    }
    if (config.input.heartbeatIntervalMs >= config.input.sessionTimeoutMs) {
      context.addIssue({
        code: 'custom',
        path: ['input', 'heartbeatIntervalMs'],
        message: 'the heartbeat interval must be shorter than the session timeout',
      });
    }
    if (config.input.topic === config.output.topic) {
      context.addIssue({
        code: 'custom',
        path: ['output', 'topic'],
        message: 'the output topic must differ from the input topic',
      });
    }
    if (config.deadLetter.topic === config.input.topic || config.deadLetter.topic === config.output.topic) {
      context.addIssue({
        code: 'custom',
        path: ['deadLetter', 'topic'],
        message: 'the dead-letter topic must differ from the input and output topics',
      });
    }
  })
  .transform((config) => ({
    ...config,
    deadLetter: { topic: config.deadLetter.topic || `${config.input.topic}.DLT` },
    deployments: { topic: config.deployments.topic || `${config.input.groupId}.deployments` },
    experiments: {
      ...config.experiments,
      comparisonTopic: config.experiments.comparisonTopic || `${config.output.topic}.comparisons`,
    },
    monitoring: {
      ...config.monitoring,
      alertsTopic: config.monitoring.alertsTopic || `${config.output.topic}.alerts`,
      topic: config.monitoring.topic || `${config.output.topic}.monitoring`,
    },
  }));

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
