/**
 * Where benchmark results go and what every result file records about the run that produced it: the
 * machine, the versions of everything in the path, the commit and the exact command, so a number in
 * BENCHMARKS.md can always be traced back and reproduced.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { packagePath } from '../../src/config/index.js';

export const RESULTS_DIRECTORY = packagePath('loadtests/results');

export interface RunEnvironment {
  recordedAt: string;
  command: string;
  gitCommit: string;
  /** Uncommitted changes were present, so the commit alone does not reproduce the run. */
  gitDirty: boolean;
  machine: { cpuModel: string; cores: number; memoryGiB: number; platform: string };
  versions: Record<string, string>;
}

function packageVersion(name: string): string {
  const manifest = JSON.parse(readFileSync(packagePath(`node_modules/${name}/package.json`), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

/** The broker version is the version of the kafka_2.13 jar the local broker runs from. */
function kafkaVersion(): string {
  const cache = packagePath('.cache/kafka');
  try {
    for (const release of readdirSync(cache)) {
      const jar = readdirSync(join(cache, release, 'libs')).find((name) => name.startsWith('kafka_2.13-'));
      if (jar) return jar.replace(/^kafka_2\.13-/, '').replace(/\.jar$/, '');
    }
  } catch {
    // No local jar cache: the benchmark ran against someone else's broker.
  }
  return 'unknown (not the local broker)';
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: packagePath('.'), encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

/** How the run was started, as a person would type it again. */
function invokingCommand(): string {
  const args = process.argv.slice(2).join(' ');
  const script = process.env.npm_lifecycle_event;
  // npx sets npm_lifecycle_event to 'npx': that is no script of ours.
  if (script && script !== 'npx') return `npm run ${script}${args ? ` -- ${args}` : ''}`;
  const entry = process.argv[1] ? relative(packagePath('.'), process.argv[1]) : '';
  return `npx tsx ${entry}${args ? ` ${args}` : ''}`;
}

let cached: RunEnvironment | undefined;

export function runEnvironment(): RunEnvironment {
  cached ??= {
    recordedAt: new Date().toISOString(),
    command: invokingCommand(),
    gitCommit: git(['rev-parse', 'HEAD']) || 'unknown',
    gitDirty: git(['status', '--porcelain', '--untracked-files=no']).length > 0,
    machine: {
      cpuModel: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
      platform: `${process.platform} ${process.arch}`,
    },
    versions: {
      node: process.versions.node,
      kafka: kafkaVersion(),
      kafkajs: packageVersion('kafkajs'),
      'onnxruntime-node': packageVersion('onnxruntime-node'),
      avsc: packageVersion('avsc'),
    },
  };
  return cached;
}

/** Writes loadtests/results/<scenario>.json with the run's environment beside the figures. */
export function writeResult(scenario: string, body: object): string {
  const path = join(RESULTS_DIRECTORY, `${scenario}.json`);
  writeFileSync(path, `${JSON.stringify({ scenario, environment: runEnvironment(), ...body }, null, 2)}\n`);
  return path;
}
