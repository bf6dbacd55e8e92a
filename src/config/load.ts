import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigurationError } from '../errors/index.js';
import { type Config, type ConfigInput, configSchema } from './schema.js';
import { type Setting, settings } from './settings.js';

type Section = Record<string, unknown>;
type RawConfig = Record<string, Section>;

export interface LoadOptions {
  /** JSON file with any subset of the configuration. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Highest precedence: values set by the command line or a test. */
  overrides?: ConfigInput;
}

function parseEnvValue(setting: Setting, raw: string): unknown {
  switch (setting.type) {
    case 'string[]':
      return raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0);
    case 'integer':
    case 'number':
      // Left as text when not numeric so the schema reports it with the variable's name.
      return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    default:
      return raw;
  }
}

function readFile(file: string): RawConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigurationError('CONFIG_INVALID', `cannot read config file ${file}`, { cause: error });
  }
  try {
    return JSON.parse(text) as RawConfig;
  } catch (error) {
    throw new ConfigurationError('CONFIG_INVALID', `config file ${file} is not valid JSON`, { cause: error });
  }
}

function readEnv(env: NodeJS.ProcessEnv): RawConfig {
  const raw: RawConfig = {};
  for (const setting of settings) {
    const value = env[setting.env];
    if (value === undefined) continue;
    const [section, key] = setting.path;
    raw[section] ??= {};
    raw[section][key] = parseEnvValue(setting, value);
  }
  return raw;
}

function merge(...layers: RawConfig[]): RawConfig {
  const merged: RawConfig = {};
  for (const layer of layers) {
    for (const [section, values] of Object.entries(layer)) {
      merged[section] = { ...merged[section], ...values };
    }
  }
  return merged;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Defaults < file < environment < overrides; validated once, then frozen. */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = options.file ?? env.STREAMSCORE_CONFIG;
  const layers = [file ? readFile(file) : {}, readEnv(env), (options.overrides ?? {}) as RawConfig];
  const result = configSchema.safeParse(merge(...layers));
  if (!result.success) {
    throw new ConfigurationError(
      'CONFIG_INVALID',
      `invalid configuration:\n${z.prettifyError(result.error)}`,
    );
  }
  return deepFreeze(result.data);
}
