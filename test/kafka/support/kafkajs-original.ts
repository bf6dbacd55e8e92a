/**
 * A kafkajs file as version 2.2.4 shipped it, rebuilt from the installed (patched) file by dropping the
 * patch's marker and undoing each of its edits, so tests can hold the patched code to the original's output.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { KafkajsPatch } from '../../../scripts/patch-kafkajs-decoding.mjs';

const require = createRequire(import.meta.url);

export const patchMarker = (name: string) => `// streamscore: ${name} (scripts/patch-kafkajs.mjs)`;

/** The first line of an installed kafkajs file (`file` relative to the package). */
export const firstLineOf = (file: string) =>
  readFileSync(require.resolve(`kafkajs/${file}`), 'utf8').split('\n')[0];

/** The text of `patch.file` as kafkajs shipped it: the installed file without the patch's marker and edits. */
export function originalSource(patch: KafkajsPatch): string {
  let source = readFileSync(require.resolve(`kafkajs/${patch.file}`), 'utf8').replace(
    `${patchMarker(patch.name)}\n`,
    '',
  );
  for (const [original, replacement] of patch.edits) {
    if (!source.includes(replacement))
      throw new Error(`${patch.file} does not hold the text its patch wrote`);
    source = source.replace(replacement, () => original);
  }
  return source;
}

/**
 * The original module of `patch.file`, its `require` answered from `dependencies` first (so an original
 * can load another original) and otherwise as the installed file's would be.
 */
export function loadOriginal(patch: KafkajsPatch, dependencies: Record<string, unknown> = {}): unknown {
  const path = require.resolve(`kafkajs/${patch.file}`);
  const source = originalSource(patch);
  const requireNearFile = createRequire(path);
  const module = { exports: {} as unknown };
  const run = new Function('require', 'module', 'exports', source) as (
    load: (id: string) => unknown,
    module: { exports: unknown },
    exports: unknown,
  ) => void;
  run((id) => dependencies[id] ?? requireNearFile(id), module, module.exports);
  return module.exports;
}
