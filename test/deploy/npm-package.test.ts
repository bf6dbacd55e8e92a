/**
 * The npm package (`npm pack`), as `npm install streamscore` would get it: the postinstall's modules, the
 * command, and every file the service reads from its package. The list comes from npm itself; dist/ is
 * built by the prepack script, so it is held to the build's output instead of to the list.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { packagePath } from '../../src/config/index.js';
import { covers, filesReadAtRunTime, packageJson, postinstallModules } from './support/package-contents.js';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const [packed] = JSON.parse(
  execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: packagePath(''),
    encoding: 'utf8',
  }),
) as [{ files: { path: string }[] }];
const inTarball = new Set(packed.files.map(({ path }) => path));

describe('the npm package', () => {
  it('carries every module its postinstall imports', () => {
    expect(postinstallModules().filter((file) => !inTarball.has(file))).toEqual([]);
  });

  it('carries every file the service reads from its package by default', () => {
    const missing = filesReadAtRunTime().filter(
      (file) => !inTarball.has(file) && ![...inTarball].some((path) => covers(file, path)),
    );
    expect(missing).toEqual([]);
  });

  it('builds the command it names before packing, into a folder it ships', () => {
    const { bin, main, files, scripts } = packageJson();
    expect(scripts.prepack).toBe('npm run build');
    const build = JSON.parse(readFileSync(packagePath('tsconfig.build.json'), 'utf8')) as {
      compilerOptions: { rootDir: string; outDir: string };
    };
    const { rootDir, outDir } = build.compilerOptions;
    expect(files).toContain(outDir);
    for (const target of [...Object.values(bin), ...(main ? [main] : [])]) {
      expect(target.startsWith(`${outDir}/`)).toBe(true);
      const source = `${rootDir}/${target.slice(outDir.length + 1).replace(/\.js$/, '.ts')}`;
      expect(existsSync(packagePath(source)), `${target} is built from ${source}`).toBe(true);
    }
  });
});
