/**
 * One Prometheus exposition for the process out of each loop's. A counter or histogram is the sum over
 * loops (records in, predictions out, latency buckets: what a dashboard sums anyway), as are the gauges
 * that count things (lag of disjoint partitions, rows waiting for inference). Any other gauge (the serving
 * version, a drift PSI, a challenger's agreement) describes one loop and is kept per loop, with a `loop`
 * label, rather than summed into a meaningless number.
 */

/** Gauges that count, so the process's value is the sum of its loops'. */
const ADDITIVE_GAUGES = new Set([
  'kafka_consumergroup_group_lag',
  'kafka_consumergroup_group_lag_seconds',
  'streamscore_inference_queued_rows',
  'streamscore_inference_running_rows',
]);

interface Family {
  /** The # HELP and # TYPE lines, as the first loop wrote them. */
  readonly header: string[];
  readonly summed: boolean;
  /** Series (name and labels) to value, in first-seen order. */
  readonly series: Map<string, number>;
}

function parseValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

function formatValue(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/** Splits `name{labels} value [timestamp]` after its labels, which may hold spaces and escaped quotes. */
function splitSample(line: string): [series: string, value: string] {
  let end = line.indexOf(' ');
  const brace = line.indexOf('{');
  if (brace !== -1 && brace < end) {
    let quoted = false;
    for (end = brace + 1; end < line.length; end++) {
      const char = line[end];
      if (char === '\\') end += 1;
      else if (char === '"') quoted = !quoted;
      else if (char === '}' && !quoted) break;
    }
    end += 1;
  }
  return [line.slice(0, end), line.slice(end).trim().split(' ')[0] ?? ''];
}

function withLoopLabel(series: string, loop: number): string {
  const brace = series.indexOf('{');
  if (brace === -1) return `${series}{loop="${loop}"}`;
  const rest = series.slice(brace + 1);
  return `${series.slice(0, brace)}{loop="${loop}"${rest === '}' ? '' : ','}${rest}`;
}

/** `expositions[i]` is loop i's /metrics text. */
export function mergeExpositions(expositions: readonly string[]): string {
  const families = new Map<string, Family>();
  for (const [loop, text] of expositions.entries()) {
    let family: Family | undefined;
    let help: string | undefined;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      if (line.startsWith('# HELP ')) {
        help = line;
      } else if (line.startsWith('# TYPE ')) {
        const [, , name = '', type = ''] = line.split(' ');
        family = families.get(name);
        if (!family) {
          const summed = type === 'counter' || type === 'histogram' || ADDITIVE_GAUGES.has(name);
          family = { header: help ? [help, line] : [line], summed, series: new Map() };
          families.set(name, family);
        }
        help = undefined;
      } else if (!line.startsWith('#') && family) {
        const [series, value] = splitSample(line);
        const key = family.summed ? series : withLoopLabel(series, loop);
        family.series.set(key, (family.series.get(key) ?? 0) + parseValue(value));
      }
    }
  }
  const lines: string[] = [];
  for (const family of families.values()) {
    lines.push(...family.header);
    for (const [series, value] of family.series) lines.push(`${series} ${formatValue(value)}`);
  }
  return `${lines.join('\n')}\n`;
}
