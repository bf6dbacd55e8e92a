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

/** `totalLabel` names what the total covers: "since start" for a service, the range for a report. */
export function formatSummary(summary: ExperimentsSummary, totalLabel: string): string {
  if (summary.pairs.length === 0) return 'no comparisons\n';
  const windowLabel = `last ${summary.windowMs / 1000} s`;
  const blocks = summary.pairs.map(({ champion, challenger, total, window }) => {
    const lines = [
      `champion ${describe(champion)}  vs  challenger ${describe(challenger)}`,
      `${''.padEnd(LABEL_WIDTH)}${totalLabel.padStart(VALUE_WIDTH)}${windowLabel.padStart(VALUE_WIDTH)}`,
      ...ROWS.map(
        ([label, read]) =>
          `${label.padEnd(LABEL_WIDTH)}${read(total).padStart(VALUE_WIDTH)}${read(window).padStart(VALUE_WIDTH)}`,
      ),
    ];
    return lines.join('\n');
  });
  return `${blocks.join('\n\n')}\n`;
}
