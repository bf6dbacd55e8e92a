import { readFileSync } from 'node:fs';
import { packagePath } from '../../src/config/index.js';

export interface GoldenRow {
  event: Record<string, unknown>;
  features: number[];
  score: number;
}

export function readGolden(modelDirectory = 'models/fraud-gbm/1'): GoldenRow[] {
  const golden = JSON.parse(readFileSync(packagePath(`${modelDirectory}/golden.json`), 'utf8')) as {
    rows: GoldenRow[];
  };
  return golden.rows;
}
