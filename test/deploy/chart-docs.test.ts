/**
 * The chart's documentation and schema against their sources: the README values table against values.yaml,
 * values.schema.json's `config` against the service's settings, and values.yaml's `config` against the
 * settings too. `npx tsx test/deploy/support/chart-docs.ts --write` regenerates the first two.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { settings } from '../../src/config/index.js';
import {
  configSchema,
  readmeValuesTable,
  schemaConfigDefinition,
  VALUES_FILE,
  valueEntries,
  valuesMarkdown,
} from './support/chart-docs.js';

const REGENERATE = 'run `npx tsx test/deploy/support/chart-docs.ts --write`';

describe('the chart documentation', () => {
  it('README values table is the one values.yaml generates', () => {
    expect(readmeValuesTable(), `the README values table is stale: ${REGENERATE}`).toBe(valuesMarkdown());
  });

  it("values.schema.json's config is the one the settings generate", () => {
    expect(schemaConfigDefinition(), `values.schema.json is stale: ${REGENERATE}`).toEqual(configSchema());
  });

  it('values.yaml lists every setting but the secret ones under config, and nothing else there', () => {
    const config = (parse(readFileSync(VALUES_FILE, 'utf8')) as { config: Record<string, object> }).config;
    const listed = Object.entries(config).flatMap(([section, keys]) =>
      Object.keys(keys).map((key) => `${section}.${key}`),
    );
    const expected = settings.filter((setting) => !setting.secret).map((setting) => setting.path.join('.'));
    expect(listed.toSorted()).toEqual(expected.toSorted());
  });

  it('documents every value outside config, and every config value the chart sets', () => {
    const entries = valueEntries();
    const documented = (key: string) =>
      entries.some(
        (entry) => entry.description !== '' && (key === entry.key || key.startsWith(`${entry.key}.`)),
      );
    const undocumented = entries
      .filter((entry) => entry.kind !== 'map' || Object.keys(entry.value ?? {}).length === 0)
      .filter((entry) => !entry.key.startsWith('config.') || entry.value !== null)
      .map((entry) => entry.key)
      .filter((key) => !documented(key));
    expect(undocumented, 'give each a `# --` comment in values.yaml').toEqual([]);
  });

  it('reads `# --` comments, including the first key of a map, and leaves other comments out', () => {
    const table = valuesMarkdown(
      [
        '# A header, not documentation.',
        '',
        '# -- The first.',
        'first: 1',
        'outer:',
        '  # -- Inner, first of its map.',
        '  inner: x',
        '  # Only a remark.',
        '  remark: y',
        '  # -- Two lines',
        '  # of text | with a pipe.',
        '  second: [a]',
      ].join('\n'),
    );
    expect(table.split('\n').slice(2)).toEqual([
      '| `first` | `1` | The first. |',
      '| `outer.inner` | `"x"` | Inner, first of its map. |',
      '| `outer.second` | `["a"]` | Two lines of text \\| with a pipe. |',
    ]);
  });
});
