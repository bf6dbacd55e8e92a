/**
 * What the Helm chart's documentation and schema derive from: the README values table, generated from the
 * chart's values.yaml and its `# --` comments, and the `config` part of values.schema.json, generated from
 * the service's settings. Tests hold both to their sources; run this file to rewrite them:
 *
 *   npx tsx test/deploy/support/chart-docs.ts --write
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, type Node, parseDocument, type YAMLMap } from 'yaml';
import { packagePath, type Setting, settings } from '../../../src/config/index.js';

export const CHART_DIR = packagePath('deploy/helm/streamscore');
export const VALUES_FILE = `${CHART_DIR}/values.yaml`;
export const SCHEMA_FILE = `${CHART_DIR}/values.schema.json`;
export const README_FILE = packagePath('README.md');
export const TABLE_START = '<!-- helm-values:start';
export const TABLE_END = '<!-- helm-values:end -->';
const TABLE_START_LINE = `${TABLE_START} (generated from deploy/helm/streamscore/values.yaml by test/deploy/support/chart-docs.ts; a test keeps it in sync) -->`;

/**
 * Settings the chart itself needs a value of (ports, probes, grace period, KEDA's trigger): never null in
 * the schema.
 */
export const REQUIRED_BY_CHART = [
  'kafka.brokers',
  'input.topic',
  'input.groupId',
  'admin.host',
  'admin.port',
  'shutdown.timeoutMs',
];

export interface ValueEntry {
  /** Dotted path in values.yaml, e.g. `keda.lagThreshold`. */
  key: string;
  value: unknown;
  /** The text of its `# --` comment; empty when it has none. */
  description: string;
  kind: 'map' | 'list' | 'scalar';
  /** Whether a key below it has its own `# --` comment. */
  documentedChildren: boolean;
}

/** The `# --` block of a comment: from its last line starting with `--` to its end. */
function docComment(comment: string | null | undefined): string {
  if (!comment) return '';
  const lines = comment.split('\n').map((line) => line.replace(/^ ?/, ''));
  const start = lines.findLastIndex((line) => line.startsWith('-- '));
  if (start < 0) return '';
  return lines
    .slice(start)
    .map((line, index) => (index === 0 ? line.slice(3) : line).trim())
    .join(' ')
    .trim();
}

/** Every key of values.yaml, depth first, with its `# --` description. */
export function valueEntries(text = readFileSync(VALUES_FILE, 'utf8')): ValueEntry[] {
  const document = parseDocument(text);
  const entries: ValueEntry[] = [];
  const walk = (map: YAMLMap, prefix: string): void => {
    map.items.forEach((pair, index) => {
      const key = `${prefix}${isScalar(pair.key) ? String(pair.key.value) : String(pair.key)}`;
      const keyNode = pair.key as Node;
      // yaml attaches the comment above a map's first key to the map itself.
      const comment = keyNode.commentBefore ?? (index === 0 ? map.commentBefore : undefined);
      const value = pair.value as Node | null;
      const entry: ValueEntry = {
        key,
        value: value && 'toJSON' in value ? value.toJSON() : null,
        description: docComment(comment),
        kind: isMap(value) ? 'map' : isSeq(value) ? 'list' : 'scalar',
        documentedChildren: false,
      };
      entries.push(entry);
      if (isMap(value)) {
        const before = entries.length;
        walk(value, `${key}.`);
        entry.documentedChildren = entries.slice(before).some((child) => child.description !== '');
      }
    });
  };
  if (isMap(document.contents)) walk(document.contents, '');
  return entries;
}

function showDefault(entry: ValueEntry): string {
  if (entry.kind === 'map' && entry.documentedChildren) return '';
  if (entry.value === null) return '`~`';
  const text = JSON.stringify(entry.value);
  return `\`${text}\``;
}

/** The README's values table: every documented key of values.yaml, in file order. */
export function valuesMarkdown(text?: string): string {
  const rows = valueEntries(text)
    .filter((entry) => entry.description !== '')
    .map(
      (entry) => `| \`${entry.key}\` | ${showDefault(entry)} | ${entry.description.replaceAll('|', '\\|')} |`,
    );
  return ['| value | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

type JsonSchema = Record<string, unknown>;

function settingSchema(setting: Setting): JsonSchema {
  const required = REQUIRED_BY_CHART.includes(setting.path.join('.'));
  const nullable = (types: string[]) => (required ? types : [...types, 'null']);
  if (setting.choices) return { enum: required ? [...setting.choices] : [...setting.choices, null] };
  switch (setting.type) {
    case 'string[]':
      // A YAML list, or the comma-separated text the environment variable takes.
      return { type: nullable(['array', 'string']), items: { type: 'string' } };
    case 'integer':
      return { type: nullable(['integer']) };
    case 'number':
      return { type: nullable(['number']) };
    case 'boolean':
      return { type: nullable(['boolean']) };
    default:
      return { type: nullable(['string']) };
  }
}

/**
 * The schema of `config`: one object per section, one property per setting, nothing else. The secret
 * settings are left out on purpose: they come from Secrets, never from a ConfigMap.
 */
export function configSchema(): JsonSchema {
  const sections: Record<string, { type: string; additionalProperties: false; properties: JsonSchema }> = {};
  for (const setting of settings) {
    if (setting.secret) continue;
    const [section, key] = setting.path;
    sections[section] ??= { type: 'object', additionalProperties: false, properties: {} };
    sections[section].properties[key] = settingSchema(setting);
  }
  return { type: 'object', additionalProperties: false, properties: sections };
}

function readSchema(): { definitions: { config: JsonSchema } } & JsonSchema {
  return JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'));
}

export function schemaConfigDefinition(): JsonSchema {
  return readSchema().definitions.config;
}

/** The README's text between the values table's markers; undefined when a marker is missing. */
export function readmeValuesTable(readme = readFileSync(README_FILE, 'utf8')): string | undefined {
  return readme.split(TABLE_START)[1]?.split('-->').slice(1).join('-->').split(TABLE_END)[0]?.trim();
}

function write(): void {
  const schema = readSchema();
  schema.definitions.config = configSchema();
  writeFileSync(SCHEMA_FILE, `${JSON.stringify(schema, null, 2)}\n`);
  // In the repository's JSON style, so `biome check` passes on the file as written.
  execFileSync(packagePath('node_modules/.bin/biome'), ['format', '--write', SCHEMA_FILE], {
    stdio: 'ignore',
  });
  const readme = readFileSync(README_FILE, 'utf8');
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) {
    throw new Error(`README.md has no ${TABLE_START} ... ${TABLE_END} markers`);
  }
  const table = `${TABLE_START_LINE}\n${valuesMarkdown()}\n`;
  writeFileSync(README_FILE, readme.slice(0, start) + table + readme.slice(end));
  console.log(`wrote ${SCHEMA_FILE} (definitions.config) and the values table of ${README_FILE}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--write')) write();
  else console.log(valuesMarkdown());
}
