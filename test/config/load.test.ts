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
