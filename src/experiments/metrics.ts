/**
 * The running comparison figures as Prometheus metrics, read at scrape time from the figures (so the
 * scoring path pays nothing for them): counts since start as counters, the window's agreement, PSI and
 * tails as gauges. Each series names the pair: the champion's model and version, the challenger's variant,
 * model and version.
 */
import type { Attributes, BatchObservableCallback, Meter } from '@opentelemetry/api';
import type { ExperimentFigures, PairSummary } from './figures.js';

function pairAttributes({ champion, challenger }: PairSummary): Attributes {
  return {
    champion_model: champion.model,
    champion_version: champion.version,
    challenger_variant: challenger.variant,
    challenger_model: challenger.model,
    challenger_version: challenger.version,
  };
}

export function registerExperimentMetrics(meter: Meter, figures: ExperimentFigures): () => void {
  const events = meter.createObservableCounter('streamscore.challenger.events', {
    description: 'Events a challenger was given, by what became of them (ok, timeout, error, shed).',
  });
  const flips = meter.createObservableCounter('streamscore.challenger.flips', {
    description: 'Events only one of champion and challenger decided positive, by which one.',
  });
  const agreement = meter.createObservableGauge('streamscore.challenger.agreement.ratio', {
    description: 'Share of events both scored that both decided alike, over the experiments window.',
  });
  const psi = meter.createObservableGauge('streamscore.challenger.psi', {
    description:
      "Population stability index of the challenger's scores against the champion's, over the window.",
  });
  const difference = meter.createObservableGauge('streamscore.challenger.abs.score.difference.p99', {
    description: '99th percentile of |challenger score - champion score| over the window.',
  });
  const latency = meter.createObservableGauge('streamscore.challenger.inference.p99.seconds', {
    description: "99th percentile of the challenger's inference time over the window.",
    unit: 's',
  });
  const observables = [events, flips, agreement, psi, difference, latency];
  const observe: BatchObservableCallback = (result) => {
    for (const pair of figures.summary(Date.now()).pairs) {
      const attributes = pairAttributes(pair);
      for (const [status, count] of Object.entries(pair.total.challengerStatus))
        result.observe(events, count, { ...attributes, status });
      result.observe(flips, pair.total.flips.challengerOnlyPositive, {
        ...attributes,
        direction: 'challenger_only_positive',
      });
      result.observe(flips, pair.total.flips.championOnlyPositive, {
        ...attributes,
        direction: 'champion_only_positive',
      });
      const { window } = pair;
      if (window.agreementRate !== null) result.observe(agreement, window.agreementRate, attributes);
      if (window.psi !== null) result.observe(psi, window.psi, attributes);
      if (window.absScoreDifference) result.observe(difference, window.absScoreDifference.p99, attributes);
      if (window.challengerLatencyMs)
        result.observe(latency, window.challengerLatencyMs.p99 / 1000, attributes);
    }
  };
  meter.addBatchObservableCallback(observe, observables);
  return () => meter.removeBatchObservableCallback(observe, observables);
}
