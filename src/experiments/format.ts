/** The figures as a table for people: one block per champion/challenger pair, total beside window. */
import type { ExperimentsSummary, PairMember } from './figures.js';
import type { Figures } from './tally.js';

type Row = [label: string, read: (figures: Figures) => string];

const NONE = '-';
const count = (value: number) => String(value);
const percent = (value: number | null) => (value === null ? NONE : `${(value * 100).toFixed(2)}%`);
const significant = (value: number | null | undefined) =>
  value === null || value === undefined ? NONE : String(Number(value.toPrecision(3)));

const ROWS: Row[] = [
  ['compared', (f) => count(f.compared)],
  ['both scored', (f) => count(f.comparable)],
  ['agreement', (f) => percent(f.agreementRate)],
  ['flips, challenger only positive', (f) => count(f.flips.challengerOnlyPositive)],
  ['flips, champion only positive', (f) => count(f.flips.championOnlyPositive)],
  ['|score diff| p50', (f) => significant(f.absScoreDifference?.p50)],
  ['|score diff| p90', (f) => significant(f.absScoreDifference?.p90)],
  ['|score diff| p99', (f) => significant(f.absScoreDifference?.p99)],
  ['|score diff| max', (f) => significant(f.absScoreDifference?.max)],
  ['challenger ok', (f) => count(f.challengerStatus.ok)],
  ['challenger timeout', (f) => count(f.challengerStatus.timeout)],
  ['challenger error', (f) => count(f.challengerStatus.error)],
  ['challenger shed', (f) => count(f.challengerStatus.shed)],
  ['challenger latency p50 (ms)', (f) => significant(f.challengerLatencyMs?.p50)],
  ['challenger latency p99 (ms)', (f) => significant(f.challengerLatencyMs?.p99)],
  ['PSI', (f) => (f.psi === null ? NONE : f.psi.toFixed(4))],
];

const LABEL_WIDTH = Math.max(...ROWS.map(([label]) => label.length)) + 2;
const VALUE_WIDTH = 14;
const describe = ({ variant, model, version }: PairMember) => `${variant} ${model}@${version}`;

/** One pair's figures, a column per span (`[label, figures]`), under a line naming the pair. */
export function formatPair(
  pair: { champion: PairMember; challenger: PairMember },
  columns: readonly (readonly [label: string, figures: Figures])[],
): string {
  const cells = (read: (figures: Figures) => string) =>
    columns.map(([, figures]) => read(figures).padStart(VALUE_WIDTH)).join('');
  return [
    `champion ${describe(pair.champion)}  vs  challenger ${describe(pair.challenger)}`,
    `${''.padEnd(LABEL_WIDTH)}${columns.map(([label]) => label.padStart(VALUE_WIDTH)).join('')}`,
    ...ROWS.map(([label, read]) => `${label.padEnd(LABEL_WIDTH)}${cells(read)}`),
  ].join('\n');
}

/** `totalLabel` names what the total covers: "since start" for a service, the range for a report. */
export function formatSummary(summary: ExperimentsSummary, totalLabel: string): string {
  if (summary.pairs.length === 0) return 'no comparisons\n';
  const windowLabel = `last ${summary.windowMs / 1000} s`;
  const blocks = summary.pairs.map((pair) =>
    formatPair(pair, [
      [totalLabel, pair.total],
      [windowLabel, pair.window],
    ]),
  );
  return `${blocks.join('\n\n')}\n`;
}
