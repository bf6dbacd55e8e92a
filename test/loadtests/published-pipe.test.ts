import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolve as resolveHook } from '../../loadtests/targets/published-kafkajs-hooks.mjs';
import { CHECKSUM_PATCHES } from '../../scripts/patch-kafkajs-checksum.mjs';
import { DECODING_PATCHES } from '../../scripts/patch-kafkajs-decoding.mjs';
import { RECORD_PATCHES } from '../../scripts/patch-kafkajs-records.mjs';
import { REQUEST_QUEUE_PATCHES } from '../../scripts/patch-kafkajs-request-queue.mjs';
import { originalSource } from '../kafka/support/kafkajs-original.js';

const require = createRequire(import.meta.url);
const packageDirectory = (name: string) => dirname(require.resolve(`${name}/package.json`));

/** The package's .js files whose first line is a streamscore patch marker, relative to the package. */
function patchedFiles(name: string): string[] {
  const root = packageDirectory(name);
  return readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.js'))
    .map((file) => join('src', file))
    .filter((file) => readFileSync(join(root, file), 'utf8').startsWith('// streamscore: '));
}

describe('the bare pipe on kafkajs as published', () => {
  it('has a copy of kafkajs that postinstall left as npm served it, beside the patched one', () => {
    expect(patchedFiles('kafkajs').length).toBeGreaterThan(0);
    expect(patchedFiles('kafkajs-published')).toEqual([]);
    const version = (name: string) =>
      JSON.parse(readFileSync(join(packageDirectory(name), 'package.json'), 'utf8')).version;
    expect(version('kafkajs-published')).toBe(version('kafkajs'));
  });

  it('runs on the very text each patch replaced', () => {
    const patches = [...DECODING_PATCHES, ...RECORD_PATCHES, ...CHECKSUM_PATCHES, ...REQUEST_QUEUE_PATCHES];
    for (const patch of patches) {
      const published = readFileSync(join(packageDirectory('kafkajs-published'), patch.file), 'utf8');
      expect(originalSource(patch), patch.file).toBe(published);
    }
  });

  it('resolves kafkajs to the published copy, and every other module as before', async () => {
    const asked: string[] = [];
    const next = async (specifier: string) => {
      asked.push(specifier);
      return { url: specifier };
    };
    await resolveHook('kafkajs', {}, next);
    await resolveHook('kafkajs/src/index.js', {}, next);
    await resolveHook('./bare-pipe.js', {}, next);
    expect(asked).toEqual(['kafkajs-published', 'kafkajs/src/index.js', './bare-pipe.js']);
  });

  it('registers the hook ahead of the imports that load kafkajs, in a process of its own', () => {
    const script = [
      "import { register } from 'node:module';",
      "import { pathToFileURL } from 'node:url';",
      "register('./loadtests/targets/published-kafkajs-hooks.mjs', pathToFileURL('./'));",
      "process.stdout.write(import.meta.resolve('kafkajs'));",
    ].join('\n');
    const resolved = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: join(packageDirectory('kafkajs'), '..', '..'),
      encoding: 'utf8',
    });
    expect(resolved).toBe(`file://${join(packageDirectory('kafkajs-published'), 'index.js')}`);
  });
});
