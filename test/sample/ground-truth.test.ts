/**
 * The sample stream's ground truth is models/train.py's labelling process: the logit of a constructed event
 * worked out by hand from models/README.md's formula, and the fraud rate over a long stream equal to the
 * training data's (1,373 of 50,000, 2.746%).
 */
import { describe, expect, it } from 'vitest';
import {
  type CardTransaction,
  fraudProbability,
  SAMPLE_LABELS,
  sampleLabel,
  sampleTransactions,
  seededRandom,
} from '../../src/sample/index.js';

const HOUR_MS = 3_600_000;
const TRAINING_FRAUD_RATE = 1_373 / 50_000;

describe('sample ground truth', () => {
  const base = sampleTransactions({ seed: 3 }).next().value as CardTransaction;

  it('scores an event by the training formula, every term at its constant', () => {
    // 500.00 at a high-risk merchant, online, abroad, no device, no geolocation, at 03:00 UTC.
    const risky: CardTransaction = {
      ...base,
      amount_minor: 50_000,
      merchant_category: '7995',
      channel: 'ECOMMERCE',
      country: 'BR',
      card_country: 'US',
      device_id: null,
      latitude: null,
      longitude: null,
      event_time: Date.UTC(2025, 8, 3, 3, 15),
    };
    const z = -6.0 + 0.55 * Math.log(500 / 50) + 1.1 + 1.2 + 0.6 + 1.4 + 1.0 + 0.3 + 0.9 + 0.25;
    expect(fraudProbability(risky, 0.25)).toBeCloseTo(1 / (1 + Math.exp(-z)), 12);

    // 50.00 at a grocery, in person, at home, at noon: the intercept alone.
    const plain: CardTransaction = {
      ...risky,
      amount_minor: 5_000,
      merchant_category: '5411',
      channel: 'POS',
      country: 'US',
      event_time: Date.UTC(2025, 8, 3, 12),
    };
    expect(fraudProbability(plain, 0)).toBeCloseTo(1 / (1 + Math.exp(6)), 12);
    // MOTO without a device is card-not-present too.
    const moto = { ...plain, channel: 'MOTO' as const };
    expect(fraudProbability(moto, 0)).toBeCloseTo(1 / (1 + Math.exp(-(-6 + 1.3 + 1.0))), 12);
    expect(Math.floor(plain.event_time / HOUR_MS) % 24).toBe(12);
  });

  it('labels a long stream at the training fraud rate, each label after its event', () => {
    const events = sampleTransactions({ seed: 11 });
    const random = seededRandom(12);
    const count = 200_000;
    let fraud = 0;
    let misplaced = 0;
    let mislabelled = 0;
    for (let index = 0; index < count; index++) {
      const event = events.next().value as CardTransaction;
      const label = sampleLabel(event, random);
      const delay = label.label_time - event.event_time;
      if (label.event_id !== event.event_id || delay < 60_000 || delay > 10 * 24 * HOUR_MS) misplaced += 1;
      if (label.label === SAMPLE_LABELS.positive) fraud += 1;
      else if (label.label !== SAMPLE_LABELS.negative) mislabelled += 1;
    }
    expect([misplaced, mislabelled]).toEqual([0, 0]);
    // The standard error of the rate over 200,000 events is 0.037 points; the band is four of them.
    expect(Math.abs(fraud / count - TRAINING_FRAUD_RATE)).toBeLessThan(4 * 0.00037);
  });
});
