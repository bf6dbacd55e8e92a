import { describe, expect, it } from 'vitest';
import { mergeExpositions } from '../../src/loops/index.js';

interface LoopFigures {
  records: number;
  lagPartition: number;
  lag: number;
  version: string;
  fast: number;
  all: number;
  sum: number;
}

/** One loop's exposition, as the OpenTelemetry Prometheus serializer writes it. */
const exposition = (loop: number, figures: LoopFigures) => `# HELP target_info Target metadata
# TYPE target_info gauge
target_info{service_name="streamscore",streamscore_loop="${loop}"} 1
# HELP streamscore_records_in_total Records consumed from the input topic.
# TYPE streamscore_records_in_total counter
streamscore_records_in_total{topic="transactions"} ${figures.records}
# HELP kafka_consumergroup_group_lag Records behind.
# TYPE kafka_consumergroup_group_lag gauge
kafka_consumergroup_group_lag{topic="transactions",partition="${figures.lagPartition}"} ${figures.lag}
# HELP streamscore_model_serving The model version serving.
# TYPE streamscore_model_serving gauge
streamscore_model_serving{model="fraud-gbm",version="${figures.version}"} 1
# HELP streamscore_end_to_end_seconds Event to prediction.
# TYPE streamscore_end_to_end_seconds histogram
streamscore_end_to_end_seconds_bucket{le="0.01"} ${figures.fast}
streamscore_end_to_end_seconds_bucket{le="+Inf"} ${figures.all}
streamscore_end_to_end_seconds_sum ${figures.sum}
streamscore_end_to_end_seconds_count ${figures.all}
`;

const loop0 = exposition(0, {
  records: 120,
  lagPartition: 0,
  lag: 4,
  version: '1',
  fast: 10,
  all: 12,
  sum: 0.5,
});
const loop1 = exposition(1, {
  records: 80,
  lagPartition: 1,
  lag: 6,
  version: '2',
  fast: 5,
  all: 8,
  sum: 0.25,
});

/** The merged exposition as series → value. */
function samples(text: string): Map<string, string> {
  return new Map(
    text
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.lastIndexOf(' ')), line.slice(line.lastIndexOf(' ') + 1)]),
  );
}

describe('one /metrics for several loops', () => {
  const merged = mergeExpositions([loop0, loop1]);
  const series = samples(merged);

  it('sums counters and every histogram series over the loops', () => {
    expect(series.get('streamscore_records_in_total{topic="transactions"}')).toBe('200');
    expect(series.get('streamscore_end_to_end_seconds_bucket{le="0.01"}')).toBe('15');
    expect(series.get('streamscore_end_to_end_seconds_bucket{le="+Inf"}')).toBe('20');
    expect(series.get('streamscore_end_to_end_seconds_sum')).toBe('0.75');
    expect(series.get('streamscore_end_to_end_seconds_count')).toBe('20');
  });

  it('keeps the lag of each partition whichever loop reports it', () => {
    expect(series.get('kafka_consumergroup_group_lag{topic="transactions",partition="0"}')).toBe('4');
    expect(series.get('kafka_consumergroup_group_lag{topic="transactions",partition="1"}')).toBe('6');
  });

  it('labels a gauge that describes one loop with that loop instead of adding it up', () => {
    expect(series.get('streamscore_model_serving{loop="0",model="fraud-gbm",version="1"}')).toBe('1');
    expect(series.get('streamscore_model_serving{loop="1",model="fraud-gbm",version="2"}')).toBe('1');
    expect(series.get('target_info{loop="1",service_name="streamscore",streamscore_loop="1"}')).toBe('1');
  });

  it('writes each family once, its HELP and TYPE before its samples', () => {
    const lines = merged.split('\n');
    expect(lines.filter((line) => line === '# TYPE streamscore_records_in_total counter')).toHaveLength(1);
    const type = lines.indexOf('# TYPE streamscore_model_serving gauge');
    expect(lines[type - 1]).toBe('# HELP streamscore_model_serving The model version serving.');
    expect(lines[type + 1]).toMatch(/^streamscore_model_serving\{loop="0"/);
    expect(lines[type + 2]).toMatch(/^streamscore_model_serving\{loop="1"/);
  });

  it('reads label values holding spaces, braces and escaped quotes', () => {
    const odd = (value: number) =>
      `# TYPE streamscore_drift_psi gauge\nstreamscore_drift_psi{reason="a } \\"b\\" c"} ${value}\n# TYPE up_total counter\nup_total ${value}\n`;
    const text = samples(mergeExpositions([odd(1), odd(2)]));
    expect(text.get('streamscore_drift_psi{loop="0",reason="a } \\"b\\" c"}')).toBe('1');
    expect(text.get('streamscore_drift_psi{loop="1",reason="a } \\"b\\" c"}')).toBe('2');
    expect(text.get('up_total')).toBe('3');
  });

  it('gives a labelless gauge a loop label of its own', () => {
    const gauge = (value: number) => `# TYPE streamscore_thing gauge\nstreamscore_thing ${value}\n`;
    const text = samples(mergeExpositions([gauge(1), gauge(NaN)]));
    expect(text.get('streamscore_thing{loop="0"}')).toBe('1');
    expect(text.get('streamscore_thing{loop="1"}')).toBe('NaN');
  });
});
