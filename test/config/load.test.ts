import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, settings } from '../../src/config/index.js';
import { ConfigurationError } from '../../src/errors/index.js';

describe('configuration', () => {
  it('runs the embedded sample with no configuration at all', () => {
    const config = loadConfig({ env: {} });
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.input.topic).toBe('transactions');
    expect(config.model.repository).toMatch(/models$/);
    expect(config.model).toMatchObject({ name: 'fraud-gbm', version: 'latest', workers: 'auto' });
  });

  it('layers defaults < file < environment < overrides', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'streamscore-config-'));
    const file = join(directory, 'config.json');
    await writeFile(
      file,
      JSON.stringify({ input: { topic: 'from-file', groupId: 'file-group' }, log: { level: 'debug' } }),
    );
    const config = loadConfig({
      file,
      env: {
        STREAMSCORE_INPUT_GROUP_ID: 'env-group',
        STREAMSCORE_KAFKA_BROKERS: 'a:1, b:2',
        STREAMSCORE_LOG_PRETTY: 'true',
      },
      overrides: { log: { level: 'warn' } },
    });
    expect(config.input.topic).toBe('from-file');
    expect(config.input.groupId).toBe('env-group');
    expect(config.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(config.log).toMatchObject({ level: 'warn', pretty: true });
  });

  it('reads STREAMSCORE_CONFIG as the file when none is given', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'streamscore-config-'));
    const file = join(directory, 'c.json');
    await writeFile(file, JSON.stringify({ output: { topic: 'scores' } }));
    expect(loadConfig({ env: { STREAMSCORE_CONFIG: file } }).output.topic).toBe('scores');
  });

  it('names the variable and the rule when a value is invalid', () => {
    expect(() => loadConfig({ env: { STREAMSCORE_INPUT_PARTITIONS_CONSUMED_CONCURRENTLY: 'many' } })).toThrow(
      /partitionsConsumedConcurrently/,
    );
    expect(() => loadConfig({ env: { STREAMSCORE_KAFKA_BROKERS: 'no-port' } })).toThrow(/host:port/);
    expect(() => loadConfig({ env: { STREAMSCORE_KAFKA_SASL_MECHANISM: 'scram-sha-512' } })).toThrow(
      /username/,
    );
    expect(() => loadConfig({ env: { STREAMSCORE_OUTPUT_TOPIC: 'transactions' } })).toThrow(
      ConfigurationError,
    );
    expect(() => loadConfig({ env: { STREAMSCORE_INPUT_HEARTBEAT_INTERVAL_MS: '30000' } })).toThrow(
      /heartbeat interval must be shorter than the session timeout/,
    );
    expect(
      loadConfig({ env: { STREAMSCORE_INPUT_HEARTBEAT_INTERVAL_MS: '29999' } }).input.heartbeatIntervalMs,
    ).toBe(29_999);
  });

  it('asks for a registry URL when a format needs one, and keeps registry settings to confluent', () => {
    expect(() => loadConfig({ env: { STREAMSCORE_INPUT_FORMAT: 'confluent' } })).toThrow(
      /need a schema registry URL.*at registry\.urls/s,
    );
    expect(() => loadConfig({ env: { STREAMSCORE_OUTPUT_FORMAT: 'confluent' } })).toThrow(/registry URL/);
    expect(() =>
      loadConfig({
        env: {
          STREAMSCORE_REGISTRY_URLS: 'http://registry:8081',
          STREAMSCORE_INPUT_READER_SUBJECT: 'tx-value',
        },
      }),
    ).toThrow(/format confluent only.*at input\.readerSubject/s);
    expect(() =>
      loadConfig({
        env: { STREAMSCORE_INPUT_FORMAT: 'confluent', STREAMSCORE_REGISTRY_URLS: 'registry:8081' },
      }),
    ).toThrow(/registry\.urls/);
    const config = loadConfig({
      env: {
        STREAMSCORE_INPUT_FORMAT: 'confluent',
        STREAMSCORE_REGISTRY_URLS: 'http://a:8081/apis/ccompat/v7, https://b:8081',
      },
    });
    expect(config.registry.urls).toEqual(['http://a:8081/apis/ccompat/v7', 'https://b:8081']);
    expect(config.output.format).toBe('avro');
  });

  it('reads a secret from the file <variable>_FILE names, and only a secret', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'streamscore-secret-'));
    const file = join(directory, 'password');
    await writeFile(file, 'from-a-file\n');
    const env = {
      STREAMSCORE_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      STREAMSCORE_KAFKA_SASL_USERNAME: 'scoring',
    };
    const config = loadConfig({
      env: { ...env, STREAMSCORE_KAFKA_SASL_PASSWORD_FILE: file, STREAMSCORE_ADMIN_TOKEN_FILE: file },
    });
    expect(config.kafka.saslPassword).toBe('from-a-file');
    expect(config.admin.token).toBe('from-a-file');
    expect(() =>
      loadConfig({ env: { STREAMSCORE_REGISTRY_PASSWORD: 'x', STREAMSCORE_REGISTRY_PASSWORD_FILE: file } }),
    ).toThrow(/set STREAMSCORE_REGISTRY_PASSWORD or STREAMSCORE_REGISTRY_PASSWORD_FILE, not both/);
    expect(() => loadConfig({ env: { STREAMSCORE_ADMIN_TOKEN_FILE: join(directory, 'absent') } })).toThrow(
      /cannot read STREAMSCORE_ADMIN_TOKEN_FILE .*absent.*ENOENT/,
    );
    expect(() => loadConfig({ env: { STREAMSCORE_INPUT_TOPIC_FILE: file } })).toThrow(
      /unknown environment variable STREAMSCORE_INPUT_TOPIC_FILE/,
    );
  });

  it('refuses an unreadable or malformed file with its path', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'streamscore-config-'));
    const file = join(directory, 'broken.json');
    await writeFile(file, '{ "input": ');
    expect(() => loadConfig({ file, env: {} })).toThrow(/broken\.json is not valid JSON/);
    expect(() => loadConfig({ file: join(directory, 'absent.json'), env: {} })).toThrow(/cannot read/);
  });

  it('returns a frozen configuration', () => {
    const config = loadConfig({ env: {} });
    expect(Object.isFrozen(config.kafka)).toBe(true);
    expect(Object.isFrozen(config.kafka.brokers)).toBe(true);
  });

  it('derives one environment variable per setting', () => {
    const names = settings.map((setting) => setting.env);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('STREAMSCORE_INPUT_MAX_BYTES_PER_PARTITION');
    expect(settings.every((setting) => setting.description.length > 0)).toBe(true);
  });
});

describe('names that are not settings', () => {
  async function configFile(content: unknown): Promise<string> {
    const directory = await mkdtemp(join(tmpdir(), 'streamscore-config-'));
    const file = join(directory, 'config.json');
    await writeFile(file, JSON.stringify(content));
    return file;
  }

  function loadError(options: Parameters<typeof loadConfig>[0]): ConfigurationError {
    try {
      loadConfig(options);
    } catch (error) {
      if (error instanceof ConfigurationError) return error;
      throw error;
    }
    throw new Error('the configuration loaded');
  }

  it('refuses a misspelt variable and names the real one', () => {
    const error = loadError({ env: { STREAMSCORE_DEAD_LETTER_TOPIC: 'scores.DLT' } });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain(
      'unknown environment variable STREAMSCORE_DEAD_LETTER_TOPIC; did you mean STREAMSCORE_DEADLETTER_TOPIC?',
    );
  });

  it('suggests through swapped letters and a changed case', () => {
    expect(loadError({ env: { STREAMSCORE_LOG_LEVLE: 'debug' } }).message).toContain(
      'did you mean STREAMSCORE_LOG_LEVEL?',
    );
    expect(loadError({ env: { STREAMSCORE_input_group_id: 'g' } }).message).toContain(
      'did you mean STREAMSCORE_INPUT_GROUP_ID?',
    );
  });

  it('refuses a far-off variable without guessing', () => {
    const error = loadError({ env: { STREAMSCORE_TOTALLY_UNRELATED: '1' } });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toMatch(/unknown environment variable STREAMSCORE_TOTALLY_UNRELATED$/m);
    expect(error.message).not.toContain('did you mean');
  });

  it('lists every unknown variable in one error', () => {
    const message = loadError({
      env: { STREAMSCORE_OUTPUT_TOPK: 'x', STREAMSCORE_KAFKA_BROKER: 'a:1' },
    }).message;
    expect(message).toContain('STREAMSCORE_KAFKA_BROKER; did you mean STREAMSCORE_KAFKA_BROKERS?');
    expect(message).toContain('STREAMSCORE_OUTPUT_TOPK; did you mean STREAMSCORE_OUTPUT_TOPIC?');
  });

  it('accepts STREAMSCORE_CONFIG and the variables of other programs', async () => {
    const file = await configFile({ log: { level: 'warn' } });
    const config = loadConfig({
      env: {
        STREAMSCORE_CONFIG: file,
        STREAMSCORE_LOG_PRETTY: 'true',
        KAFKA_BROKERS: 'elsewhere:1',
        PATH: '/bin',
      },
    });
    expect(config.log).toMatchObject({ level: 'warn', pretty: true });
  });

  it('accepts the variable of every setting', () => {
    // Each set to its default as text, so the values are valid too and the load must succeed.
    const env = Object.fromEntries(
      settings.map((setting) => {
        const value = setting.defaultValue;
        return [setting.env, Array.isArray(value) ? value.join(',') : String(value)] as const;
      }),
    );
    expect(loadConfig({ env })).toEqual(loadConfig({ env: {} }));
  });

  it('refuses a misspelt key in the file and names the real one', async () => {
    const file = await configFile({ input: { topic: 'in', groupID: 'scoring' } });
    const error = loadError({ file, env: {} });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain(
      `unknown setting "input.groupID" in config file ${file}; did you mean "input.groupId"?`,
    );
  });

  it('refuses a misspelt section, a key from elsewhere and a section that is not an object', async () => {
    const file = await configFile({ deadletter: { topic: 'x' }, kafka: { topic: 'x' }, log: 'debug' });
    const message = loadError({ file, env: {} }).message;
    expect(message).toContain('unknown section "deadletter"');
    expect(message).toContain('did you mean "deadLetter"?');
    expect(message).toMatch(/unknown setting "kafka\.topic" in config file \S+$/m);
    expect(message).toContain('section "log"');
  });

  it('refuses a file that is not an object of sections', async () => {
    const file = await configFile([{ kafka: {} }]);
    expect(() => loadConfig({ file, env: {} })).toThrow(/must hold a JSON object of sections/);
  });
});
