/**
 * The configuration schema flattened into settings, one per leaf (`kafka.brokers`), each with its
 * environment variable, type, default and description. The loader reads the environment through this
 * list and `--help` prints it, so neither can drift from the schema.
 */
import { z } from 'zod';
import { configSchema } from './schema.js';

export type SettingType = 'string' | 'integer' | 'number' | 'boolean' | 'string[]';

export interface Setting {
  /** Section and key, e.g. ['kafka', 'brokers']. */
  readonly path: readonly [string, string];
  readonly env: string;
  readonly type: SettingType;
  readonly defaultValue: unknown;
  readonly description: string;
  readonly choices?: readonly string[];
  /**
   * Never logged nor shown; may come from a file named by `<env>_FILE` (the Docker and Kubernetes
   * convention), which keeps it out of the environment that process listings and crash dumps show.
   */
  readonly secret: boolean;
}

/** The settings whose values are credentials. */
const SECRET_PATHS = new Set(['kafka.saslPassword', 'registry.password', 'admin.token']);

/** Suffix of the variable naming a file that holds a secret setting's value. */
export const FILE_SUFFIX = '_FILE';

interface JsonSchemaNode {
  type?: string;
  default?: unknown;
  description?: string;
  enum?: string[];
  properties?: Record<string, JsonSchemaNode>;
}

/** Prefix of every configuration variable; the loader refuses one it does not know (OTEL_* are the SDK's own). */
export const ENV_PREFIX = 'STREAMSCORE_';

function toEnvName(section: string, key: string): string {
  const snake = key.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase();
  return `${ENV_PREFIX}${section.toUpperCase()}_${snake}`;
}

function settingType(node: JsonSchemaNode): SettingType {
  if (node.type === 'array') return 'string[]';
  if (node.type === 'integer' || node.type === 'number' || node.type === 'boolean') return node.type;
  return 'string';
}

function collectSettings(): Setting[] {
  const root = z.toJSONSchema(configSchema, { io: 'input' }) as JsonSchemaNode;
  const settings: Setting[] = [];
  for (const [section, sectionNode] of Object.entries(root.properties ?? {})) {
    for (const [key, node] of Object.entries(sectionNode.properties ?? {})) {
      settings.push({
        path: [section, key],
        env: toEnvName(section, key),
        type: settingType(node),
        defaultValue: node.default,
        description: node.description ?? '',
        ...(node.enum ? { choices: node.enum } : {}),
        secret: SECRET_PATHS.has(`${section}.${key}`),
      });
    }
  }
  return settings;
}

export const settings: readonly Setting[] = collectSettings();
