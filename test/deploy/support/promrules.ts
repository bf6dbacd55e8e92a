/**
 * Runs scripts/promrules (Prometheus's own rule-file validation, as `promtool check rules` does it, and its
 * PromQL test language), built on first use by scripts/promrules/promrules.sh into .cache/promrules/. A
 * PromQL reading of our own would share our misreadings of PromQL.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packagePath } from '../../../src/config/index.js';

const SCRIPT = packagePath('scripts/promrules/promrules.sh');

export interface PromrulesResult {
  ok: boolean;
  /** What Prometheus's code said: every problem found, or PASS. */
  output: string;
}

function promrules(command: 'check' | 'eval', text: string): PromrulesResult {
  const directory = mkdtempSync(join(tmpdir(), 'promrules-'));
  try {
    const file = join(directory, command === 'check' ? 'rules.yaml' : 'script.test');
    writeFileSync(file, text);
    const result = spawnSync('bash', [SCRIPT, command, file], {
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    });
    if (result.status !== 0 && result.status !== 1) {
      throw new Error(`promrules exited ${result.status ?? result.signal}:\n${result.stderr}`);
    }
    return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** Builds the checker unless it is built for its current sources (minutes when cold): call it where time is allowed. */
export function buildPromrules(): void {
  const result = spawnSync('bash', [SCRIPT, 'fetch'], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`promrules did not build:\n${result.stderr}`);
}

/** Validates a Prometheus rule file's text (`groups:` at the top). */
export const checkRules = (rules: string): PromrulesResult => promrules('check', rules);

/** Runs a promqltest script: `load` blocks of series, then `eval instant at` with the results expected. */
export const evalScript = (script: string): PromrulesResult => promrules('eval', script);
