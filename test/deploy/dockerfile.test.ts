/**
 * deploy/Dockerfile without a Docker engine: what each stage copies from the repository, held to what runs
 * there. The build stage's `npm ci` runs package.json's postinstall, which needs every module it imports
 * copied before it; the final stage must hold every file the service reads from its package by default.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { packagePath } from '../../src/config/index.js';
import { covers, filesReadAtRunTime, postinstallModules } from './support/package-contents.js';

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

const copied = (stage: Stage, file: string) => stage.copies.some(({ source }) => covers(source, file));

describe('deploy/Dockerfile', () => {
  const [build, final] = stages();

  it('copies every module of the postinstall script before npm ci runs it', () => {
    const install = build!.instructions.findIndex((line) => line.startsWith('RUN npm ci'));
    expect(install).toBeGreaterThan(0);
    const beforeInstall = {
      ...build!,
      copies: build!.copies.filter(({ before }) => before.length < install),
    };
    const modules = postinstallModules();
    expect(modules.length).toBeGreaterThan(1);
    expect(modules.filter((file) => !copied(beforeInstall, file))).toEqual([]);
  });

  it("skips onnxruntime-node's CUDA download in the build, which npm 10 would otherwise run", () => {
    const install = build!.instructions.findIndex((line) => line.startsWith('RUN npm ci'));
    const environment = build!.instructions.slice(0, install).filter((line) => line.startsWith('ENV '));
    expect(environment.join(' ')).toMatch(/\bONNXRUNTIME_NODE_INSTALL=skip\b/);
  });

  it('puts every file the service reads from its package by default into the image', () => {
    const read = filesReadAtRunTime();
    expect(read).toEqual(expect.arrayContaining(['schemas/card-transaction.avsc', 'models/fraud-gbm']));
    expect(read.filter((file) => !copied(final!, file))).toEqual([]);
  });
});
