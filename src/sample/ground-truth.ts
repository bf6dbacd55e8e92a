/**
 * What each sample transaction turned out to be, drawn from the process models/train.py labels its
 * training data with, constant for constant (models/README.md, "Fraud"): fraud with probability
 * sigmoid(z), z a linear score of what the event shows plus a Gaussian term for what it does not. So
 * labels published beside sample events (`streamscore produce --labels-topic`) let the ground-truth join
 * and the backtest measure the sample models against the truth they were trained on: online precision and
 * recall near the ones in their manifests.
 */
import type { Random } from './random.js';
import type { CardTransaction } from './transactions.js';

const INTERCEPT = -6.0;
const NOISE_SD = 0.8;
const REFERENCE_AMOUNT = 50.0;
const COEFFICIENTS = {
  logAmountRelative: 0.55,
  ecommerce: 1.1,
  moto: 1.3,
  crossBorder: 1.2,
  crossBorderCardNotPresent: 0.6,
  highRiskMcc: 1.4,
  deviceUnknownCardNotPresent: 1.0,
  ecommerceWithoutGeolocation: 0.3,
  night: 0.9,
};
const HIGH_RISK_MCCS = new Set(['5967', '7995', '4829', '6051', '5816']);
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
/** Labels come one minute to ten days after their event (log-uniform), as chargebacks and reviews do. */
const LONGEST_DELAY_MS = 10 * 24 * HOUR_MS;

/** The sample models' class labels. */
export const SAMPLE_LABELS = { positive: 'fraud', negative: 'legit' } as const;

const indicator = (condition: boolean) => (condition ? 1 : 0);

/** P(fraud) of `event` given the draw of its unseen term (`noise`, in units of z). */
export function fraudProbability(event: CardTransaction, noise: number): number {
  const c = COEFFICIENTS;
  const cardNotPresent = event.channel === 'ECOMMERCE' || event.channel === 'MOTO';
  const crossBorder = event.country !== event.card_country;
  const hour = Math.floor(event.event_time / HOUR_MS) % 24;
  const z =
    INTERCEPT +
    noise +
    c.logAmountRelative * (Math.log(event.amount_minor / 100) - Math.log(REFERENCE_AMOUNT)) +
    c.ecommerce * indicator(event.channel === 'ECOMMERCE') +
    c.moto * indicator(event.channel === 'MOTO') +
    c.crossBorder * indicator(crossBorder) +
    c.crossBorderCardNotPresent * indicator(crossBorder && cardNotPresent) +
    c.highRiskMcc * indicator(HIGH_RISK_MCCS.has(event.merchant_category)) +
    c.deviceUnknownCardNotPresent * indicator(event.device_id === null && cardNotPresent) +
    c.ecommerceWithoutGeolocation * indicator(event.channel === 'ECOMMERCE' && event.latitude === null) +
    c.night * indicator(hour < 6);
  return 1 / (1 + Math.exp(-z));
}

export interface SampleLabel {
  event_id: string;
  label: string;
  /** Epoch ms: the event's time plus the label's delay. */
  label_time: number;
  source: string;
}

/** The event's label, drawn from `random`. */
export function sampleLabel(event: CardTransaction, random: Random): SampleLabel {
  const fraud = random.chance(fraudProbability(event, NOISE_SD * random.normal()));
  const delayMs = Math.round(MINUTE_MS * (LONGEST_DELAY_MS / MINUTE_MS) ** random.next());
  return {
    event_id: event.event_id,
    label: fraud ? SAMPLE_LABELS.positive : SAMPLE_LABELS.negative,
    label_time: event.event_time + delayMs,
    source: fraud ? 'chargeback' : 'review',
  };
}
