import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configMarkdown, packagePath } from '../../src/config/index.js';

describe('README settings table', () => {
  it('is the table the configuration schema generates', () => {
    const readme = readFileSync(packagePath('README.md'), 'utf8');
    const table = readme
      .split('<!-- settings:start')[1]
      ?.split('-->')[1]
      ?.split('<!-- settings:end')[0]
      ?.trim();
    expect(table).toBe(configMarkdown());
  });
});
