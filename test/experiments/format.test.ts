import { describe, expect, it } from 'vitest';
import { createExperimentFigures, formatSummary } from '../../src/experiments/index.js';
import { ScoringStatus } from '../../src/routing/index.js';

const labels = { negative: 'legit', positive: 'fraud' };

describe('experiments table', () => {
  it('shows each pair with its total beside its window, dashes where a figure has no events', () => {
    const figures = createExperimentFigures({ windowMs: 60_000 });
    figures.addBatch(
      {
        variant: 'primary',
        manifest: { name: 'fraud-gbm', version: '1', sha256: 'a'.repeat(64), threshold: 0.5, labels },
        scores: Float32Array.of(0.25, 0.75),
        latencyMs: 1,
      },
      {
        variant: 'mlp',
        manifest: { name: 'fraud-mlp', version: '2', sha256: 'b'.repeat(64), threshold: 0.5, labels },
        rows: [0, 1],
        count: 2,
        scores: Float32Array.of(0.25, 0.25),
        statuses: Uint8Array.of(ScoringStatus.OK, ScoringStatus.OK),
        latencyMs: 2,
      },
      0,
    );
    const table = formatSummary(figures.summary(120_000), 'since start');
    const lines = table.split('\n');
    expect(lines[0]).toBe('champion primary fraud-gbm@1  vs  challenger mlp fraud-mlp@2');
    expect(lines[1]).toMatch(/^\s+since start\s+last 60 s$/);
    const row = (label: string) => lines.find((line) => line.startsWith(label))?.split(/\s{2,}/);
    expect(row('agreement')).toEqual(['agreement', '50.00%', '-']);
    expect(row('compared')).toEqual(['compared', '2', '0']);
    expect(row('flips, champion only positive')).toEqual(['flips, champion only positive', '1', '0']);
    expect(row('|score diff| max')).toEqual(['|score diff| max', '0.5', '-']);
    expect(row('challenger latency p99 (ms)')).toEqual(['challenger latency p99 (ms)', '2', '-']);
    expect(row('PSI')?.[1]).toMatch(/^\d+\.\d{4}$/);
  });

  it('says so when there is nothing to show', () => {
    expect(formatSummary(createExperimentFigures({ windowMs: 1_000 }).summary(0), 'range')).toBe(
      'no comparisons\n',
    );
  });
});
