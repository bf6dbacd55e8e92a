import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigurationError } from '../errors/index.js';
import { didYouMean } from './closest-names.js';
import { type Config, type ConfigInput, configSchema } from './schema.js';
import { ENV_PREFIX, FILE_SUFFIX, type Setting, settings } from './settings.js';

type Section = Record<string, unknown>;
type RawConfig = Record<string, Section>;

/** The one STREAMSCORE_* variable that is not a setting: the JSON file's path, as `--config` gives it. */
const CONFIG_FILE_VARIABLE = `${ENV_PREFIX}CONFIG`;
/** Every STREAMSCORE_* variable streamscore reads. */
const knownVariables = [
  CONFIG_FILE_VARIABLE,
  ...settings.map((setting) => setting.env),
  ...settings.filter((setting) => setting.secret).map((setting) => `${setting.env}${FILE_SUFFIX}`),
];
/** The same without the prefix, which every name shares and so would only dilute the suggestions' distances. */
const knownVariableSuffixes = knownVariables.map((name) => name.slice(ENV_PREFIX.length));
const sectionNames = [...new Set(settings.map((setting) => setting.path[0]))];
const settingPaths = settings.map((setting) => setting.path.join('.'));
const quoted = (name: string) => `"${name}"`;

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

function readFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigurationError('CONFIG_INVALID', `cannot read config file ${file}`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError('CONFIG_INVALID', `config file ${file} is not valid JSON`, { cause: error });
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The file's sections, and what in it names no setting. The schema alone would drop an unknown key without
 * a word, so a typo (`groupID`) would leave the default in force; it is refused here with the nearest real
 * name instead.
 */
function checkFile(file: string, content: unknown): { layer: RawConfig; problems: string[] } {
  const where = `in config file ${file}`;
  if (!isPlainObject(content)) {
    return {
      layer: {},
      problems: [`config file ${file} must hold a JSON object of sections, e.g. {"kafka": {...}}`],
    };
  }
  const layer: RawConfig = {};
  const problems: string[] = [];
  for (const [section, values] of Object.entries(content)) {
    if (!sectionNames.includes(section)) {
      problems.push(`unknown section "${section}" ${where}${didYouMean(section, sectionNames, quoted)}`);
      continue;
    }
    if (!isPlainObject(values)) {
      problems.push(`section "${section}" ${where} must be an object of settings`);
      continue;
    }
    for (const key of Object.keys(values)) {
      const path = `${section}.${key}`;
      if (!settingPaths.includes(path)) {
        problems.push(`unknown setting "${path}" ${where}${didYouMean(path, settingPaths, quoted)}`);
      }
    }
    layer[section] = values;
  }
  return { layer, problems };
}

/**
 * STREAMSCORE_* variables that streamscore does not read. Unchecked, a misspelt variable
 * (STREAMSCORE_DEAD_LETTER_TOPIC for STREAMSCORE_DEADLETTER_TOPIC) would leave the default in force without a
 * word; refusing it at start names the mistake while the operator is looking.
 */
function unknownVariables(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env)
    .filter(
      (name) => name.startsWith(ENV_PREFIX) && env[name] !== undefined && !knownVariables.includes(name),
    )
    .sort()
    .map(
      (name) =>
        `unknown environment variable ${name}` +
        didYouMean(name.slice(ENV_PREFIX.length), knownVariableSuffixes, (suffix) => ENV_PREFIX + suffix),
    );
}

/** A secret's value from the file `<env>_FILE` names; the message names the variable, never the content. */
function secretFromFile(setting: Setting, env: NodeJS.ProcessEnv): string | undefined {
  const variable = `${setting.env}${FILE_SUFFIX}`;
  const path = env[variable];
  if (path === undefined) return undefined;
  if (env[setting.env] !== undefined) {
    throw new ConfigurationError('CONFIG_INVALID', `set ${setting.env} or ${variable}, not both`);
  }
  try {
    // A trailing newline is what `echo` and most editors leave; no secret ends with one.
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigurationError('CONFIG_INVALID', `cannot read ${variable} (${path}): ${reason}`);
  }
}

function readEnv(env: NodeJS.ProcessEnv): RawConfig {
  const raw: RawConfig = {};
  for (const setting of settings) {
    const value = setting.secret ? (secretFromFile(setting, env) ?? env[setting.env]) : env[setting.env];
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

/**
 * Defaults < file < environment < overrides; validated once, then frozen. A key in the file or a STREAMSCORE_*
 * variable that names no setting stops the start, all of them in one error, before any value is validated.
 */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = options.file ?? env[CONFIG_FILE_VARIABLE];
  const fromFile = file ? checkFile(file, readFile(file)) : { layer: {}, problems: [] };
  const unknownNames = [...fromFile.problems, ...unknownVariables(env)];
  if (unknownNames.length > 0) {
    throw new ConfigurationError(
      'CONFIG_INVALID',
      `invalid configuration:\n${unknownNames.map((problem) => `✖ ${problem}\n`).join('')}` +
        '`streamscore config` lists every setting and its environment variable.',
    );
  }
  const layers = [fromFile.layer, readEnv(env), (options.overrides ?? {}) as RawConfig];
  const result = configSchema.safeParse(merge(...layers));
  if (!result.success) {
    throw new ConfigurationError(
      'CONFIG_INVALID',
      `invalid configuration:\n${z.prettifyError(result.error)}`,
    );
  }
  return deepFreeze(result.data);
}
