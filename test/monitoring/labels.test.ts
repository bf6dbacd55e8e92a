import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors/index.js';
import { GroundTruthTallies, LabelClass } from '../../src/monitoring/ground-truth.js';
import { type JoinBounds, LabelJoin } from '../../src/monitoring/labels.js';
import type { GroundTruthLabel } from '../../src/monitoring/labels-consumer.js';
import type { Prediction } from '../../src/routing/index.js';
import { seededRandom } from '../../src/sample/random.js';
import {
  expectReportToMatch,
  offlineFigures,
  syntheticClassLabels,
  syntheticLabels,
  syntheticPredictions,
  tallyKey,
} from '../support/ground-truth.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const T0 = 1_700_000_000_000;

function joinWith(bounds: Partial<JoinBounds> = {}) {
  const tallies = new GroundTruthTallies(syntheticClassLabels);
  const join = new LabelJoin(
    { ttlMs: DAY, maxPendingPredictions: 1_000, maxPendingLabels: 1_000, ...bounds },
    tallies,
  );
  const primary = tallies.indexOf('fraud-gbm', '3', 'primary', 0.5);
  return { join, tallies, primary, figures: tallies.at(primary) };
}

describe('label join', () => {
  it('joins a label that comes after its prediction', () => {
    const { join, primary, figures } = joinWith();
    join.addPrediction('e1', primary, true, T0, T0 + 50);
    expect(join.snapshot()).toMatchObject({ pendingPredictions: 1, joined: 0 });
    join.addLabel('e1', 'fraud', T0 + 2 * MINUTE, T0 + 3 * MINUTE);
    expect(join.snapshot()).toMatchObject({ pendingPredictions: 0, pendingLabels: 0, joined: 1 });
    expect(figures.truePositives).toBe(1);
    expect(figures.labelDelayMs.max).toBe(2 * MINUTE);
  });

  it('holds a label that comes before its prediction, and joins it when the prediction comes', () => {
    const { join, primary, figures } = joinWith();
    join.addLabel('e1', 'legit', T0 + MINUTE, T0 + MINUTE);
    expect(join.snapshot()).toMatchObject({ pendingLabels: 1, joined: 0 });
    join.addPrediction('e1', primary, true, T0, T0 + 2 * MINUTE);
    expect(join.snapshot()).toMatchObject({ pendingPredictions: 0, pendingLabels: 0, joined: 1 });
    expect(figures.falsePositives).toBe(1);
  });

  it('expires a prediction whose label did not come within the TTL, in its tally', () => {
    const { join, primary, figures } = joinWith({ ttlMs: DAY });
    join.addPrediction('e1', primary, false, T0, T0);
    join.addPrediction('e2', primary, false, T0 + MINUTE, T0 + MINUTE);
    join.expire(T0 + DAY);
    expect(join.snapshot().pendingPredictions).toBe(2);
    join.expire(T0 + DAY + 1);
    expect(join.snapshot()).toMatchObject({ pendingPredictions: 1, expiredPredictions: 1 });
    expect(figures.expired).toBe(1);
    expect(figures.report().expired).toBe(1);
    // The expired prediction's label then finds nothing and waits for a prediction that will not come.
    join.addLabel('e1', 'fraud', T0 + DAY, T0 + DAY + 2);
    expect(join.snapshot()).toMatchObject({ joined: 0, pendingLabels: 1 });
    join.expire(T0 + 2 * DAY + 3);
    expect(join.snapshot()).toMatchObject({ pendingLabels: 0, expiredLabels: 1, pendingPredictions: 0 });
    expect(figures.expired).toBe(2);
  });

  it('judges a join by the records’ timestamps even when nothing expired them yet', () => {
    const { join, primary, figures } = joinWith({ ttlMs: DAY });
    join.addPrediction('late', primary, true, T0, T0);
    join.addLabel('late', 'fraud', T0 + DAY, T0 + DAY + 1);
    expect(join.snapshot()).toMatchObject({
      joined: 0,
      expiredPredictions: 1,
      expiredLabels: 1,
      pendingLabels: 0,
    });
    expect(figures.expired).toBe(1);

    join.addLabel('early', 'fraud', T0, T0);
    join.addPrediction('early', primary, true, T0, T0 + DAY + 1);
    expect(join.snapshot()).toMatchObject({ joined: 0, expiredLabels: 2, pendingPredictions: 1 });

    join.addPrediction('edge', primary, true, T0, T0);
    join.addLabel('edge', 'fraud', T0 + DAY, T0 + DAY);
    expect(join.snapshot().joined).toBe(1);
    expect(figures.truePositives).toBe(1);
  });

  it('pushes out the oldest prediction past its bound, counted as expired', () => {
    const { join, primary, figures } = joinWith({ maxPendingPredictions: 3 });
    for (const id of ['e1', 'e2', 'e3', 'e4']) join.addPrediction(id, primary, false, T0, T0);
    expect(join.snapshot()).toMatchObject({
      pendingPredictions: 3,
      evictedPredictions: 1,
      expiredPredictions: 0,
    });
    expect(figures.expired).toBe(1);
    join.addLabel('e1', 'legit', T0, T0 + 1);
    expect(join.snapshot()).toMatchObject({ joined: 0, pendingLabels: 1 });
    join.addLabel('e2', 'legit', T0, T0 + 1);
    expect(join.snapshot()).toMatchObject({ joined: 1, pendingPredictions: 2 });
  });

  it('drops the oldest waiting label past its bound', () => {
    const { join, primary } = joinWith({ maxPendingLabels: 2 });
    for (const id of ['e1', 'e2', 'e3']) join.addLabel(id, 'fraud', T0, T0);
    expect(join.snapshot()).toMatchObject({ pendingLabels: 2, evictedLabels: 1 });
    join.addPrediction('e1', primary, true, T0, T0);
    join.addPrediction('e3', primary, true, T0, T0);
    expect(join.snapshot()).toMatchObject({ joined: 1, pendingPredictions: 1, pendingLabels: 1 });
  });

  it('leaves a prediction waiting when its label is neither class label', () => {
    const { join, primary, figures } = joinWith();
    join.addPrediction('e1', primary, true, T0, T0);
    join.addLabel('e1', 'maybe', T0 + MINUTE, T0 + MINUTE);
    expect(join.snapshot()).toMatchObject({ joined: 0, unknownLabels: 1, pendingPredictions: 1 });
    join.addLabel('e1', 'fraud', T0 + MINUTE, T0 + 2 * MINUTE);
    expect(join.snapshot()).toMatchObject({ joined: 1, pendingPredictions: 0 });
    expect(figures.truePositives).toBe(1);

    join.addLabel('e2', 'maybe', T0, T0);
    join.addPrediction('e2', primary, true, T0, T0 + 1);
    expect(join.snapshot()).toMatchObject({ unknownLabels: 2, pendingLabels: 0, pendingPredictions: 1 });
  });

  it('lets a later label replace one still waiting for its prediction', () => {
    const { join, primary, figures } = joinWith();
    join.addLabel('e1', 'legit', T0, T0);
    join.addLabel('e1', 'fraud', T0 + MINUTE, T0 + MINUTE);
    expect(join.snapshot()).toMatchObject({ pendingLabels: 1, replacedLabels: 1 });
    join.addPrediction('e1', primary, false, T0, T0 + 2 * MINUTE);
    expect(figures.falseNegatives).toBe(1);
    expect(figures.trueNegatives).toBe(0);
  });

  it('keeps within its bounds and accounts for every prediction through many joins and evictions', () => {
    const random = seededRandom(7);
    const { join, primary } = joinWith({ maxPendingPredictions: 50, maxPendingLabels: 20, ttlMs: 10_000 });
    let predictions = 0;
    for (let step = 0; step < 20_000; step++) {
      const id = `e${random.int(400)}`;
      const time = T0 + step;
      if (random.chance(0.5)) {
        join.addPrediction(id, primary, random.chance(0.5), time, time);
        predictions += 1;
      } else join.addLabel(id, random.chance(0.5) ? 'fraud' : 'legit', time, time);
      if (step % 100 === 0) join.expire(time);
      const counts = join.snapshot();
      expect(counts.pendingPredictions).toBeLessThanOrEqual(50);
      expect(counts.pendingLabels).toBeLessThanOrEqual(20);
    }
    const counts = join.snapshot();
    // A second prediction for a waiting event replaces the first: each is accounted for once.
    const replacedPredictions =
      predictions -
      (counts.joined + counts.expiredPredictions + counts.evictedPredictions + counts.pendingPredictions);
    expect(replacedPredictions).toBeGreaterThanOrEqual(0);
    expect(counts.joined).toBeGreaterThan(1_000);
    expect(counts.evictedPredictions).toBeGreaterThan(0);
  });
});

interface Arrival {
  at: number;
  prediction?: Prediction;
  label?: GroundTruthLabel;
}

const TTL = 3 * DAY;

/**
 * A synthetic stream as the topics hold it: predictions at their scored time, labels at their label time
 * (a few published before their prediction, a few that are not either class label, a few for events never
 * scored). Label delays run from a minute to ten days, so a share of them comes after the TTL.
 */
function syntheticStream(seed: number) {
  const random = seededRandom(seed);
  const predictions = syntheticPredictions(random, 3_000, T0);
  const labels = syntheticLabels(random, predictions, 0.5);
  const arrivalOf = new Map(predictions.map((prediction) => [prediction.event_id, prediction.scored_time]));
  const arrivals: Arrival[] = predictions.map((prediction) => ({ at: prediction.scored_time, prediction }));
  labels.forEach((label, index) => {
    const predictedAt = arrivalOf.get(label.event_id)!;
    arrivals.push({ at: index % 40 === 0 ? predictedAt - 30_000 : label.label_time, label });
    if (index % 25 === 1) {
      arrivals.push({ at: predictedAt + 1, label: { ...label, label: 'unsure', label_time: predictedAt } });
    }
  });
  for (let index = 0; index < 30; index++) {
    const at = T0 + index * MINUTE;
    arrivals.push({
      at,
      label: { event_id: `unscored-${index}`, label: 'fraud', label_time: at, source: 'x' },
    });
  }
  // Records of one timestamp: predictions first, as the replay reads them.
  arrivals.sort((a, b) => a.at - b.at || Number(Boolean(a.label)) - Number(Boolean(b.label)));
  const joinable = labels.filter((label, index) => {
    const predictedAt = arrivalOf.get(label.event_id)!;
    const arrivedAt = index % 40 === 0 ? predictedAt - 30_000 : label.label_time;
    return Math.abs(arrivedAt - predictedAt) <= TTL;
  });
  return { predictions, labels, joinable, arrivals };
}

function feed(join: LabelJoin, tallies: GroundTruthTallies, arrival: Arrival): void {
  const { prediction, label } = arrival;
  if (label) {
    join.addLabel(label.event_id, label.label, label.label_time, arrival.at);
    return;
  }
  const index = tallies.indexOf(
    prediction!.model_name,
    prediction!.model_version,
    prediction!.variant,
    prediction!.threshold,
  );
  const positive = tallies.at(index).classOf(prediction!.label) === LabelClass.POSITIVE;
  join.addPrediction(prediction!.event_id, index, positive, prediction!.event_time, arrival.at);
}

const bounds = { ttlMs: TTL, maxPendingPredictions: 10_000, maxPendingLabels: 10_000 };

describe('label join over a synthetic stream', () => {
  const { predictions, labels, joinable, arrivals } = syntheticStream(2026);
  const end = arrivals.at(-1)!.at + TTL + 1;

  const live = () => {
    const tallies = new GroundTruthTallies(syntheticClassLabels);
    const join = new LabelJoin(bounds, tallies);
    for (const arrival of arrivals) {
      join.expire(arrival.at);
      feed(join, tallies, arrival);
    }
    join.expire(end);
    return { tallies, counts: join.snapshot() };
  };

  it('gives the figures an offline computation gives over the labels within the TTL', () => {
    expect(joinable.length).toBeLessThan(labels.length);
    const { tallies, counts } = live();
    const offline = offlineFigures(predictions, joinable);
    expect(counts.joined).toBe(joinable.length);
    expect(counts.unknownLabels).toBeGreaterThan(0);
    expect(counts.expiredLabels).toBe(labels.length - joinable.length + 30);
    for (const figures of tallies.all()) {
      const key = tallyKey(figures.modelName, figures.modelVersion, figures.variant);
      expectReportToMatch(figures.report(), offline.get(key)!);
      const scored = predictions.filter((p) => tallyKey(p.model_name, p.model_version, p.variant) === key);
      expect(figures.expired).toBe(scored.length - figures.labelled);
    }
  });

  it('gives the same figures when rebuilt from the topics, predictions first and labels after', () => {
    const tallies = new GroundTruthTallies(syntheticClassLabels);
    const join = new LabelJoin(bounds, tallies);
    for (const arrival of arrivals) if (arrival.prediction) feed(join, tallies, arrival);
    for (const arrival of arrivals) if (arrival.label) feed(join, tallies, arrival);
    join.expire(end);
    const reference = live();
    expect(join.snapshot()).toEqual(reference.counts);
    expect(tallies.all().map((figures) => figures.report())).toEqual(
      reference.tallies.all().map((figures) => figures.report()),
    );
  });
});

describe('label join bounds', () => {
  it('refuses bounds it cannot work within', () => {
    const tallies = new GroundTruthTallies(syntheticClassLabels);
    expect(() => new LabelJoin({ ...bounds, ttlMs: 0 }, tallies)).toThrow(ConfigurationError);
    expect(() => new LabelJoin({ ...bounds, maxPendingLabels: 0 }, tallies)).toThrow(ConfigurationError);
  });
});
