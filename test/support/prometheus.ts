/**
 * Reads a /metrics exposition with the Prometheus project's own text parser and lint rules (those of
 * `promtool check metrics`), through scripts/promlint, a small Go program built on first use. A parser of
 * our own would share our misreadings of the format.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { packagePath } from '../../src/config/index.js';

export interface PrometheusSample {
  labels: Record<string, string>;
  value: number;
  count?: number;
  sum?: number;
  buckets?: Record<string, number>;
}

export interface PrometheusFamily {
  name: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED' | 'GAUGE_HISTOGRAM';
  help: string;
  samples: PrometheusSample[];
}

export interface PrometheusExposition {
  families: PrometheusFamily[];
  problems: { metric: string; text: string }[];
}

const SOURCE = packagePath('scripts/promlint');
const BINARY = packagePath('.cache/promlint/promlint');

function buildPromlint(): string {
  const sources = ['main.go', 'go.mod', 'go.sum'].map((file) => statSync(`${SOURCE}/${file}`).mtimeMs);
  if (!existsSync(BINARY) || statSync(BINARY).mtimeMs < Math.max(...sources)) {
    execFileSync('go', ['build', '-o', BINARY, '.'], { cwd: SOURCE, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return BINARY;
}

/** Parses and lints; throws with the parser's message when the text is not valid Prometheus exposition. */
export function readExposition(text: string): PrometheusExposition {
  const output = execFileSync(buildPromlint(), { input: text, encoding: 'utf8' });
  return JSON.parse(output) as PrometheusExposition;
}

/** The samples of metric `name` whose labels include `labels`; throws when the metric is missing. */
export function samplesOf(
  exposition: PrometheusExposition,
  name: string,
  labels: Record<string, string> = {},
): PrometheusSample[] {
  const family = exposition.families.find((candidate) => candidate.name === name);
  if (!family) throw new Error(`no metric ${name} in the exposition`);
  return family.samples.filter((sample) =>
    Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
}

/** Sum of the values of a counter's or gauge's matching samples. */
export function metricValue(
  exposition: PrometheusExposition,
  name: string,
  labels: Record<string, string> = {},
): number {
  return samplesOf(exposition, name, labels).reduce((total, sample) => total + sample.value, 0);
}
