/**
 * deploy/Dockerfile without a Docker engine: what each stage copies from the repository, held to what runs
 * there. The build stage's `npm ci` runs package.json's postinstall, which needs every module it imports
 * copied before it; the final stage must hold every file the service reads from its package by default.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, packagePath } from '../../src/config/index.js';

interface Stage {
  name: string;
  /** Repository paths copied in (COPY without --from), in order, each with the instructions before it. */
  copies: { source: string; before: string[] }[];
  instructions: string[];
}

function stages(): Stage[] {
  const lines = readFileSync(packagePath('deploy/Dockerfile'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const parsed: Stage[] = [];
  for (const line of lines) {
    if (line.startsWith('FROM ')) {
      parsed.push({ name: line.split(/\s+AS\s+/i)[1] ?? 'final', copies: [], instructions: [] });
      continue;
    }
    const stage = parsed.at(-1)!;
    if (line.startsWith('COPY ') && !line.includes('--from=')) {
      const sources = line.split(/\s+/).slice(1, -1);
      for (const source of sources) stage.copies.push({ source, before: [...stage.instructions] });
    }
    stage.instructions.push(line);
  }
  return parsed;
}

/** Whether a COPY source (a file, a folder, or a pattern with `*` in its last part) brings in `file`. */
function brings(source: string, file: string): boolean {
  if (source.includes('*')) {
    const pattern = new RegExp(`^${source.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
    return pattern.test(file);
  }
  return file === source || file.startsWith(`${source}/`);
}

const copied = (stage: Stage, file: string) => stage.copies.some(({ source }) => brings(source, file));

/** The repository files a script needs: itself and, transitively, the local modules it imports. */
function scriptModules(script: string): string[] {
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

function sourceFiles(folder: string): string[] {
  return readdirSync(packagePath(folder), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join(folder, name));
}

describe('deploy/Dockerfile', () => {
  const [build, final] = stages();

  it('copies every module of the postinstall script before npm ci runs it', () => {
    const packageJson = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as {
      scripts: { postinstall: string };
    };
    const script = /^node (\S+\.mjs)$/.exec(packageJson.scripts.postinstall)?.[1];
    expect(script).toBeDefined();
    const install = build!.instructions.findIndex((line) => line.startsWith('RUN npm ci'));
    expect(install).toBeGreaterThan(0);
    const beforeInstall = {
      ...build!,
      copies: build!.copies.filter(({ before }) => before.length < install),
    };
    const modules = scriptModules(script!);
    expect(modules.length).toBeGreaterThan(1);
    expect(modules.filter((file) => !copied(beforeInstall, file))).toEqual([]);
  });

  it("skips onnxruntime-node's CUDA download in the build, which npm 10 would otherwise run", () => {
    const install = build!.instructions.findIndex((line) => line.startsWith('RUN npm ci'));
    const environment = build!.instructions.slice(0, install).filter((line) => line.startsWith('ENV '));
    expect(environment.join(' ')).toMatch(/\bONNXRUNTIME_NODE_INSTALL=skip\b/);
  });

  it('puts every file the service reads from its package by default into the image', () => {
    const config = loadConfig({ env: {} });
    const read = new Set<string>();
    for (const file of sourceFiles('src')) {
      const text = readFileSync(packagePath(file), 'utf8');
      for (const [, path] of text.matchAll(/packagePath\('([^']+)'\)/g)) read.add(path!);
    }
    // The default repository is `models`; the image holds the default model's folder of it.
    read.delete('models');
    const repository = relative(packagePath(''), config.model.repository);
    read.add(`${repository}/${config.model.name}`);
    expect(read.size).toBeGreaterThan(5);
    expect([...read].filter((file) => !copied(final!, file))).toEqual([]);
    // The schema files themselves, not only their folder: the configured input and output schemas.
    for (const schema of [config.input.schema, config.output.schema]) {
      expect(copied(final!, relative(packagePath(''), schema))).toBe(true);
      expect(dirname(schema)).toBe(packagePath('schemas'));
    }
  });
});
