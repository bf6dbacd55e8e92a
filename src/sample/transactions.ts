/**
 * Synthetic card transactions shaped like schemas/card-transaction.avsc, for the demo, `streamscore
 * produce` and the tests. The process follows models/train.py in outline (channels, cross-border share,
 * high-risk merchant categories, devices, a night-time tilt) so the sample model sees the kind of traffic
 * it was trained on and flags a few percent of it. The card numbers are test PANs, not real cards.
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

const COUNTRIES = [
  { code: 'US', currency: 'USD', lat: 39.8, lon: -98.6 },
  { code: 'GB', currency: 'GBP', lat: 54.0, lon: -2.0 },
  { code: 'DE', currency: 'EUR', lat: 51.2, lon: 10.4 },
  { code: 'FR', currency: 'EUR', lat: 46.6, lon: 2.2 },
  { code: 'BR', currency: 'BRL', lat: -10.8, lon: -52.9 },
  { code: 'NG', currency: 'NGN', lat: 9.1, lon: 8.7 },
  { code: 'IN', currency: 'INR', lat: 22.4, lon: 79.0 },
] as const;
const HOME_COUNTRIES = ['US', 'US', 'US', 'GB', 'GB', 'DE', 'FR'];
const EVERYDAY_MCCS = ['5411', '5812', '5541', '5311', '4121', '5999', '5732', '4511'];
const HIGH_RISK_MCCS = ['5967', '7995', '4829', '6051', '5816'];
const CHANNELS: readonly Channel[] = [
  'POS',
  'POS',
  'POS',
  'POS',
  'POS',
  'POS',
  'ECOMMERCE',
  'ECOMMERCE',
  'ECOMMERCE',
  'ATM',
  'MOTO',
];
const ACCOUNTS = 2_000;

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

function makeAccount(random: Random, index: number): Account {
  // 400000 is a test BIN range; the Luhn digit makes the number well-formed.
  const body = `400000${String(random.int(1_000_000_000)).padStart(9, '0')}`;
  return {
    id: `acct-${String(index).padStart(6, '0')}`,
    card: `${body}${luhnCheckDigit(body)}`,
    country: random.pick(HOME_COUNTRIES),
    devices: Array.from({ length: 1 + random.int(3) }, () => `dev-${hex(random, 12)}`),
  };
}

export interface SampleOptions {
  seed?: number;
  /** Event times start here (epoch ms) and advance a few hundred milliseconds per event. */
  startTime?: number;
}

/** An endless, deterministic stream of sample transactions. */
export function* sampleTransactions(options: SampleOptions = {}): Generator<CardTransaction> {
  const random = seededRandom(options.seed ?? 7);
  const accounts = Array.from({ length: ACCOUNTS }, (_, index) => makeAccount(random, index));
  let eventTime = options.startTime ?? Date.UTC(2026, 0, 1);
  for (;;) {
    const account = random.pick(accounts);
    const channel = random.pick(CHANNELS);
    const online = channel === 'ECOMMERCE' || channel === 'MOTO';
    const crossBorder = random.chance(online ? 0.2 : 0.07);
    const home = COUNTRIES.find((c) => c.code === account.country)!;
    const place = crossBorder ? random.pick(COUNTRIES.filter((c) => c.code !== home.code)) : home;
    const category =
      channel === 'ATM'
        ? '6011'
        : random.chance(online ? 0.18 : 0.04)
          ? random.pick(HIGH_RISK_MCCS)
          : random.pick(EVERYDAY_MCCS);
    const amountMajor =
      channel === 'ATM'
        ? 20 * (1 + random.int(25))
        : Math.max(0.5, Math.exp(Math.log(45) + 0.9 * random.normal()));
    const located =
      channel === 'POS' || channel === 'ATM'
        ? random.chance(0.93)
        : channel === 'ECOMMERCE' && random.chance(0.35);
    eventTime += 50 + random.int(400);
    yield {
      event_id: uuid(random),
      account_id: account.id,
      card_number: account.card,
      card_country: account.country,
      merchant_id: `m-${category}-${String(random.int(40)).padStart(3, '0')}`,
      merchant_category: category,
      amount_minor: Math.round(amountMajor * 100),
      currency: place.currency,
      country: place.code,
      channel,
      device_id:
        channel === 'ECOMMERCE' && !random.chance(0.12)
          ? random.chance(0.05)
            ? `dev-${hex(random, 12)}`
            : random.pick(account.devices)
          : null,
      ip_address: channel === 'ECOMMERCE' && !random.chance(0.03) ? `198.51.100.${random.int(256)}` : null,
      latitude: located ? place.lat + random.normal() : null,
      longitude: located ? place.lon + random.normal() : null,
      event_time: eventTime,
    };
  }
}
