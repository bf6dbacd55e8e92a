/**
 * The chart's alerting rules (templates/prometheusrule.yaml), rendered by Helm's own code, validated by
 * Prometheus's own (as `promtool check rules` validates a rule file), and each alert's expression evaluated
 * by Prometheus's PromQL engine over made-up series of streamscore's real metric names and labels (as a
 * `/metrics` of the service exposes them): it must fire on the series it is about, with the labels and
 * value its annotations quote, and stay silent on healthy ones and on other releases' series.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CHART_DIR } from './support/chart-docs.js';
import { type CheckedCase, caseOf, helmcheck, objectsOf } from './support/helmcheck.js';
import { buildPromrules, checkRules, evalScript } from './support/promrules.js';

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface PrometheusRule {
  metadata: { labels: Record<string, string> };
  spec: { groups: { name: string; rules: Rule[] }[] };
}

const WITH_RULES = [`${CHART_DIR}/ci/prometheusrule-values.yaml`];
/** Labels a scrape of this release's pods gives every series (Helm's test release: streamscore in default). */
const OURS = 'namespace="default", pod="streamscore-7d9f8-x2v4q"';
const OTHER_POD = 'namespace="default", pod="streamscore-7d9f8-k8m2p"';
const FOREIGN = 'namespace="payments", pod="streamscore-5c6b7-z9q1w"';
const SCOPE = 'otel_scope_name="streamscore", otel_scope_version="0.1.0"';

let rendered: CheckedCase;
let defaults: CheckedCase;
let rules: Map<string, Rule>;

/** One promqltest script: the series over 20 minutes, then the alert's expression at minute 15. */
function alertScript(rule: Rule, series: string[], expected: string[]): string {
  return [
    'load 1m',
    ...series.map((line) => `  ${line}`),
    '',
    `eval instant at 15m ${rule.expr}`,
    ...expected.map((line) => `  ${line}`),
    '',
  ].join('\n');
}

function expectEval(rule: Rule, series: string[], expected: string[]): void {
  const result = evalScript(alertScript(rule, series, expected));
  expect(result.ok, result.output).toBe(true);
}

const rule = (name: string) => {
  const found = rules.get(name);
  if (!found) throw new Error(`no alert ${name} rendered`);
  return found;
};

beforeAll(() => {
  buildPromrules();
  const report = helmcheck(CHART_DIR, [WITH_RULES]);
  rendered = caseOf(report, WITH_RULES);
  defaults = caseOf(report);
  const [prometheusRule] = objectsOf<PrometheusRule>(rendered, 'PrometheusRule');
  rules = new Map(prometheusRule!.spec.groups.flatMap((group) => group.rules).map((r) => [r.alert, r]));
}, 600_000);

describe('the chart alerting rules', () => {
  it('render only when asked, decode as a PrometheusRule, and pass Prometheus rule-file validation', () => {
    expect(objectsOf(defaults, 'PrometheusRule')).toEqual([]);
    expect(rendered.ok, JSON.stringify(rendered.render.objects.filter((o) => o.error))).toBe(true);
    const [object] = objectsOf<PrometheusRule>(rendered, 'PrometheusRule');
    expect(object!.metadata.labels.release).toBe('prometheus');
    expect([...rules.keys()]).toEqual([
      'StreamscoreScoringLate',
      'StreamscoreNotScoring',
      'StreamscoreDeadLettersHigh',
      'StreamscoreEndToEndLatencyHigh',
      'StreamscoreDrift',
      'StreamscorePrecisionLow',
      'StreamscoreRecallLow',
    ]);
    for (const each of rules.values()) expect(each.labels?.severity).toMatch(/^(critical|warning)$/);

    const valid = checkRules(stringify({ groups: object!.spec.groups }));
    expect(valid.ok, valid.output).toBe(true);
    // The validation can fail: a broken expression and an annotation template that does not parse.
    const broken = structuredClone(object!.spec.groups);
    broken[0]!.rules[0]!.expr = 'max by (topic) (kafka_consumergroup_group_lag_seconds > 60';
    broken[0]!.rules[1]!.annotations!.summary = '{{ $labels.topic ';
    const refused = checkRules(stringify({ groups: broken }));
    expect(refused.ok).toBe(false);
    expect(refused.output).toContain('StreamscoreScoringLate');
    expect(refused.output).toContain('StreamscoreNotScoring');
  });

  it('say a partition is late once its events wait past lagSeconds, on this release only', () => {
    expectEval(
      rule('StreamscoreScoringLate'),
      [
        `kafka_consumergroup_group_lag_seconds{topic="tx", partition="0", ${OURS}, ${SCOPE}} 0+10x20`,
        `kafka_consumergroup_group_lag_seconds{topic="tx", partition="1", ${OURS}, ${SCOPE}} 5x20`,
        `kafka_consumergroup_group_lag_seconds{topic="tx", partition="2", ${FOREIGN}, ${SCOPE}} 0+100x20`,
      ],
      ['{topic="tx", partition="0"} 150'],
    );
  });

  it('say a topic is consumed without predictions, and not one that is scored', () => {
    expectEval(
      rule('StreamscoreNotScoring'),
      [
        `streamscore_records_in_total{topic="stuck", ${OURS}, ${SCOPE}} 0+600x20`,
        `streamscore_predictions_out_total{topic="stuck", ${OURS}, ${SCOPE}} 0x20`,
        `streamscore_records_in_total{topic="scored", ${OURS}, ${SCOPE}} 0+600x20`,
        `streamscore_predictions_out_total{topic="scored", ${OURS}, ${SCOPE}} 0+600x20`,
      ],
      ['{topic="stuck"} 10'],
    );
  });

  it("say which code dead-letters more than its share of a topic's events, summed over the pods", () => {
    expectEval(
      rule('StreamscoreDeadLettersHigh'),
      [
        `streamscore_records_in_total{topic="tx", ${OURS}, ${SCOPE}} 0+3000x20`,
        `streamscore_records_in_total{topic="tx", ${OTHER_POD}, ${SCOPE}} 0+3000x20`,
        `streamscore_dead_lettered_total{topic="tx", code="RECORD_TRUNCATED", ${OURS}, ${SCOPE}} 0+120x20`,
        `streamscore_dead_lettered_total{topic="tx", code="RECORD_TRUNCATED", ${OTHER_POD}, ${SCOPE}} 0x20`,
        `streamscore_dead_lettered_total{topic="tx", code="SCHEMA_NOT_FOUND", ${OURS}, ${SCOPE}} 0+30x20`,
        `streamscore_dead_lettered_total{topic="tx", code="FEATURE_MISSING", ${FOREIGN}, ${SCOPE}} 0+3000x20`,
      ],
      // 120 of the 6,000 events a minute: 2%, above the 1% default; 0.5% is not.
      ['{topic="tx", code="RECORD_TRUNCATED"} 0.02'],
    );
  });

  it('say when the p99 from event time to prediction passes endToEndP99Seconds', () => {
    const buckets = (counts: Record<string, number>) =>
      Object.entries(counts).map(
        ([le, perMinute]) =>
          `streamscore_end_to_end_latency_seconds_bucket{le="${le}", ${OURS}, ${SCOPE}} 0+${perMinute}x20`,
      );
    // Half the predictions between 1 and 2.5 s: the p99 interpolates to 1 + 1.5 × (198 − 100) / 100.
    expectEval(
      rule('StreamscoreEndToEndLatencyHigh'),
      buckets({ '0.5': 100, '1': 100, '2.5': 200, '+Inf': 200 }),
      ['{} 2.47'],
    );
    expectEval(
      rule('StreamscoreEndToEndLatencyHigh'),
      buckets({ '0.5': 200, '1': 200, '2.5': 200, '+Inf': 200 }),
      [],
    );
  });

  it('say which model version drifts at ALERT in any loop, and not at WARN', () => {
    expectEval(
      rule('StreamscoreDrift'),
      [
        `streamscore_drift_severity{loop="0", model="fraud-gbm", version="3", ${OURS}, ${SCOPE}} 0x20`,
        `streamscore_drift_severity{loop="1", model="fraud-gbm", version="3", ${OURS}, ${SCOPE}} 2x20`,
        `streamscore_drift_severity{loop="0", model="fraud-mlp", version="1", ${OURS}, ${SCOPE}} 1x20`,
      ],
      ['{model="fraud-gbm", version="3"} 2'],
    );
  });

  it('say which version and variant is below the precision or recall floor once enough events are labelled', () => {
    for (const [alert, metric, floor] of [
      ['StreamscorePrecisionLow', 'precision', 0.15],
      ['StreamscoreRecallLow', 'recall', 0.3],
    ] as const) {
      const labelled = (variant: string, perOutcome: number) =>
        ['true_positive', 'false_positive', 'true_negative', 'false_negative'].map(
          (outcome) =>
            `streamscore_ground_truth_labelled_total{model="fraud-gbm", version="3", variant="${variant}", outcome="${outcome}", ${OURS}, ${SCOPE}} ${perOutcome}x20`,
        );
      const rate = (variant: string, value: number) =>
        `streamscore_ground_truth_${metric}{model="fraud-gbm", version="3", variant="${variant}", ${OURS}, ${SCOPE}} ${value}x20`;
      expectEval(
        rule(alert),
        [
          rate('primary', floor - 0.05),
          ...labelled('primary', 100),
          // Below the floor on 40 labels only: too few to judge.
          rate('canary', floor - 0.1),
          ...labelled('canary', 10),
          rate('shadow', floor + 0.05),
          ...labelled('shadow', 100),
        ],
        [`{model="fraud-gbm", version="3", variant="primary"} ${floor - 0.05}`],
      );
    }
  });
});
