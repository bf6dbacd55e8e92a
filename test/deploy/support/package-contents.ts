/** What the ways of shipping streamscore (the image, the npm package) must carry, read from the sources. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { loadConfig, packagePath } from '../../../src/config/index.js';

export interface PackageJson {
  bin: Record<string, string>;
  main?: string;
  files: string[];
  scripts: Record<string, string>;
}

export const packageJson = (): PackageJson =>
  JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as PackageJson;

/** The postinstall script and, transitively, the local modules it imports: what `npm install` runs. */
export function postinstallModules(): string[] {
  const script = /^node (\S+\.mjs)$/.exec(packageJson().scripts.postinstall ?? '')?.[1];
  if (!script) throw new Error('postinstall is not `node <script>.mjs`');
  const found = new Set<string>();
  const visit = (file: string) => {
    if (found.has(file)) return;
    found.add(file);
    const text = readFileSync(packagePath(file), 'utf8');
    for (const [, specifier] of text.matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
      visit(posix.normalize(posix.join(posix.dirname(file), specifier!)));
    }
  };
  visit(script);
  return [...found];
}

/**
 * The package files the service reads at run time by default: every `packagePath('...')` in src/, with the
 * model repository narrowed to the default model's folder of it.
 */
export function filesReadAtRunTime(): string[] {
  const read = new Set<string>();
  for (const name of readdirSync(packagePath('src'), { recursive: true, encoding: 'utf8' })) {
    if (!name.endsWith('.ts')) continue;
    const text = readFileSync(packagePath(join('src', name)), 'utf8');
    for (const [, path] of text.matchAll(/packagePath\('([^']+)'\)/g)) read.add(path!);
  }
  const config = loadConfig({ env: {} });
  const repository = relative(packagePath(''), config.model.repository);
  read.delete(repository);
  read.add(`${repository}/${config.model.name}`);
  return [...read];
}

/** Whether a shipped path (a file, a folder, or a pattern with `*` in its last part) covers `file`. */
export function covers(shipped: string, file: string): boolean {
  if (shipped.includes('*')) {
    const escaped = shipped.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*');
    return new RegExp(`^${escaped}$`).test(file);
  }
  return file === shipped || file.startsWith(`${shipped}/`);
}
