/**
 * Synthetic card transactions shaped like schemas/card-transaction.avsc, for the demo, `streamscore
 * produce` and the tests. The generating process is models/train.py's, constant for constant (channel
 * mix, merchant categories per channel, amounts per category, cross-border shares, devices, geolocation,
 * the diurnal hour profile), so the sample models see the traffic they were trained on: their scores look
 * as they did in training and drift monitoring sees no drift until one is asked for (src/sample/drift.ts).
 * The random streams differ (mulberry32 here, numpy there): the same distribution, not the same events.
 * The card numbers are test PANs, not real cards.
 */
import { type Random, seededRandom } from './random.js';

export type Channel = 'POS' | 'ECOMMERCE' | 'ATM' | 'MOTO';

export interface CardTransaction {
  event_id: string;
  account_id: string;
  card_number: string;
  card_country: string;
  merchant_id: string;
  merchant_category: string;
  amount_minor: number;
  currency: string;
  country: string;
  channel: Channel;
  device_id: string | null;
  ip_address: string | null;
  latitude: number | null;
  longitude: number | null;
  event_time: number;
}

interface Account {
  id: string;
  card: string;
  country: string;
  devices: string[];
}

interface Country {
  code: string;
  /** Share of cards issued there. */
  issuing: number;
  currency: string;
  lat: number;
  lon: number;
}

const COUNTRIES: readonly Country[] = [
  { code: 'US', issuing: 0.45, currency: 'USD', lat: 39.8, lon: -98.6 },
  { code: 'GB', issuing: 0.12, currency: 'GBP', lat: 54.0, lon: -2.0 },
  { code: 'DE', issuing: 0.08, currency: 'EUR', lat: 51.2, lon: 10.4 },
  { code: 'FR', issuing: 0.07, currency: 'EUR', lat: 46.6, lon: 2.2 },
  { code: 'CA', issuing: 0.06, currency: 'CAD', lat: 45.4, lon: -75.7 },
  { code: 'ES', issuing: 0.04, currency: 'EUR', lat: 40.4, lon: -3.7 },
  { code: 'IT', issuing: 0.04, currency: 'EUR', lat: 42.8, lon: 12.5 },
  { code: 'AU', issuing: 0.04, currency: 'AUD', lat: -25.3, lon: 134.0 },
  { code: 'NL', issuing: 0.03, currency: 'EUR', lat: 52.1, lon: 5.3 },
  { code: 'BR', issuing: 0.03, currency: 'BRL', lat: -14.2, lon: -51.9 },
  { code: 'MX', issuing: 0.02, currency: 'MXN', lat: 23.6, lon: -102.5 },
  { code: 'IN', issuing: 0.02, currency: 'INR', lat: 21.0, lon: 78.0 },
  // Destinations only: no cards issued there.
  { code: 'RO', issuing: 0, currency: 'RON', lat: 45.9, lon: 25.0 },
  { code: 'NG', issuing: 0, currency: 'NGN', lat: 9.1, lon: 8.7 },
];
const COUNTRY_BY_CODE = new Map(COUNTRIES.map((country) => [country.code, country]));
const TEST_BINS = ['400000', '411111', '555555', '222300'];
const ACCOUNTS = 5_000;
const MERCHANTS_PER_MCC = 40;

/** A discrete distribution: `weights` need not sum to 1. */
interface Weighted<T> {
  items: readonly T[];
  cumulative: Float64Array;
}

function weighted<T>(entries: readonly (readonly [T, number])[]): Weighted<T> {
  const cumulative = new Float64Array(entries.length);
  let total = 0;
  entries.forEach(([, weight], index) => {
    total += weight;
    cumulative[index] = total;
  });
  for (let index = 0; index < cumulative.length; index++) cumulative[index]! /= total;
  return { items: entries.map(([item]) => item), cumulative };
}

function draw<T>(random: Random, distribution: Weighted<T>): T {
  const u = random.next();
  const { cumulative, items } = distribution;
  for (let index = 0; index < cumulative.length - 1; index++)
    if (u < cumulative[index]!) return items[index]!;
  return items[items.length - 1]!;
}

const CHANNELS = weighted<Channel>([
  ['POS', 0.55],
  ['ECOMMERCE', 0.3],
  ['ATM', 0.1],
  ['MOTO', 0.05],
]);
const CROSS_BORDER_RATE: Record<Channel, number> = { POS: 0.07, ATM: 0.07, ECOMMERCE: 0.2, MOTO: 0.2 };
const GEOLOCATED_RATE: Record<Channel, number> = { POS: 0.93, ATM: 0.93, ECOMMERCE: 0.35, MOTO: 0 };
const MCC_MIX: Record<Channel, Weighted<string>> = {
  POS: weighted(
    Object.entries({
      '5411': 22,
      '5812': 14,
      '5814': 12,
      '5541': 12,
      '5311': 8,
      '5691': 7,
      '5999': 7,
      '5732': 4,
      '4121': 4,
      '7011': 3,
      '5942': 3,
      '7995': 2,
      '6051': 1,
      '4829': 1,
    }),
  ),
  ECOMMERCE: weighted(
    Object.entries({
      '5999': 18,
      '5732': 12,
      '5691': 12,
      '5311': 8,
      '4511': 8,
      '7011': 8,
      '5942': 8,
      '4111': 6,
      '5816': 6,
      '5967': 4,
      '7995': 4,
      '4829': 3,
      '6051': 3,
    }),
  ),
  ATM: weighted([['6011', 1]]),
  MOTO: weighted(Object.entries({ '5999': 25, '7011': 20, '4511': 15, '5732': 15, '5311': 10, '5967': 15 })),
};
/** Median amount per merchant category, in major units; amounts are log-normal around it. */
const MCC_MEDIAN_AMOUNT: Record<string, number> = {
  '5411': 45,
  '5812': 40,
  '5814': 12,
  '5541': 50,
  '5311': 70,
  '5691': 80,
  '5732': 250,
  '5999': 35,
  '4121': 25,
  '7011': 180,
  '5942': 20,
  '4511': 400,
  '4111': 15,
  '5967': 60,
  '7995': 100,
  '4829': 300,
  '6051': 250,
  '5816': 20,
};
const AMOUNT_SIGMA = 0.8;
const ATM_AMOUNTS = weighted([
  [20, 0.15],
  [40, 0.2],
  [60, 0.15],
  [100, 0.2],
  [200, 0.15],
  [300, 0.08],
  [500, 0.07],
]);
/** Relative frequency of each UTC hour: one diurnal profile for every country, as in training. */
const HOURS = weighted(
  [1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 3, 4, 4.5, 5, 5.5, 5, 4.5, 4.5, 5, 5, 5, 4.5, 4, 3, 2.2, 1.5].map(
    (weight, hour) => [hour, weight] as const,
  ),
);
/** Without a start time, event times fall in the training data's window: September 2025. */
const SAMPLED_WINDOW_START_MS = Date.UTC(2025, 8, 1);
const SAMPLED_WINDOW_DAYS = 30;
const HOUR_MS = 3_600_000;

function luhnCheckDigit(digits: string): number {
  let sum = 0;
  for (let index = 0; index < digits.length; index++) {
    let digit = Number(digits[digits.length - 1 - index]);
    if (index % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return (10 - (sum % 10)) % 10;
}

function hex(random: Random, length: number): string {
  let text = '';
  for (let index = 0; index < length; index++) text += random.int(16).toString(16);
  return text;
}

function uuid(random: Random): string {
  return `${hex(random, 8)}-${hex(random, 4)}-4${hex(random, 3)}-${(8 + random.int(4)).toString(16)}${hex(random, 3)}-${hex(random, 12)}`;
}

const ISSUING = weighted(COUNTRIES.map((country) => [country.code, country.issuing] as const));

function makeAccount(random: Random, index: number): Account {
  // Test BIN ranges; the Luhn digit makes the number well-formed.
  const body = `${random.pick(TEST_BINS)}${String(random.int(1_000_000_000)).padStart(9, '0')}`;
  return {
    id: `acct-${String(index).padStart(6, '0')}`,
    card: `${body}${luhnCheckDigit(body)}`,
    country: draw(random, ISSUING),
    devices: Array.from({ length: 1 + random.int(3) }, () => hex(random, 16)),
  };
}

function randomIp(random: Random): string {
  // Documentation ranges (RFC 5737, RFC 3849): the shape of real addresses, never routable.
  if (random.chance(0.9))
    return `${random.pick(['192.0.2', '198.51.100', '203.0.113'])}.${1 + random.int(254)}`;
  return `2001:db8::${random.int(0x10000).toString(16)}:${random.int(0x10000).toString(16)}`;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

function roundTo5(value: number): number {
  return Math.round(value * 1e5) / 1e5;
}

export interface SampleOptions {
  seed?: number;
  /**
   * Event times start here (epoch ms) and advance a few hundred milliseconds per event, as a live stream's
   * do. Without it they are drawn as in training: a uniform day of September 2025 and an hour from the
   * diurnal profile, so the hour of day is distributed as the models saw it.
   */
  startTime?: number;
}

/** An endless, deterministic stream of sample transactions. */
export function* sampleTransactions(options: SampleOptions = {}): Generator<CardTransaction> {
  const random = seededRandom(options.seed ?? 7);
  const accounts = Array.from({ length: ACCOUNTS }, (_, index) => makeAccount(random, index));
  const merchantSuffixes = Array.from({ length: MERCHANTS_PER_MCC }, () =>
    String(random.int(10_000_000)).padStart(7, '0'),
  );
  let liveTime = options.startTime;
  for (;;) {
    const account = random.pick(accounts);
    const channel = draw(random, CHANNELS);
    const category = draw(random, MCC_MIX[channel]);
    const home = COUNTRY_BY_CODE.get(account.country)!;
    const place = random.chance(CROSS_BORDER_RATE[channel])
      ? random.pick(COUNTRIES.filter((country) => country.code !== home.code))
      : home;
    const amountMinor =
      channel === 'ATM'
        ? draw(random, ATM_AMOUNTS) * 100
        : Math.max(
            50,
            Math.round(MCC_MEDIAN_AMOUNT[category]! * Math.exp(AMOUNT_SIGMA * random.normal()) * 100),
          );
    let deviceId: string | null = null;
    if (channel === 'ECOMMERCE' && !random.chance(0.12)) {
      deviceId = random.chance(0.95) ? random.pick(account.devices) : hex(random, 16);
    } else if (channel === 'MOTO' && !random.chance(0.95)) {
      deviceId = account.devices[0]!;
    }
    const ipAddress = channel === 'ECOMMERCE' && !random.chance(0.03) ? randomIp(random) : null;
    const located = random.chance(GEOLOCATED_RATE[channel]);
    let eventTime: number;
    if (liveTime === undefined) {
      const day = random.int(SAMPLED_WINDOW_DAYS);
      const hour = draw(random, HOURS);
      eventTime = SAMPLED_WINDOW_START_MS + (day * 24 + hour) * HOUR_MS + random.int(HOUR_MS);
    } else {
      liveTime += 50 + random.int(400);
      eventTime = liveTime;
    }
    yield {
      event_id: uuid(random),
      account_id: account.id,
      card_number: account.card,
      card_country: account.country,
      merchant_id: `mch-${category}-${merchantSuffixes[random.int(MERCHANTS_PER_MCC)]}`,
      merchant_category: category,
      amount_minor: amountMinor,
      currency: place.currency,
      country: place.code,
      channel,
      device_id: deviceId,
      ip_address: ipAddress,
      latitude: located ? roundTo5(clamp(place.lat + 1.5 * random.normal(), -90, 90)) : null,
      longitude: located ? roundTo5(clamp(place.lon + 1.5 * random.normal(), -180, 180)) : null,
      event_time: eventTime,
    };
  }
}
