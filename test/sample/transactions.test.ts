import { describe, expect, it } from 'vitest';
import { createAvroCodec, loadAvroSchema } from '../../src/codec/index.js';
import { packagePath } from '../../src/config/index.js';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';

function take(count: number, seed: number): CardTransaction[] {
  const events = sampleTransactions({ seed });
  return Array.from({ length: count }, () => events.next().value as CardTransaction);
}

function luhnValid(number: string): boolean {
  let sum = 0;
  for (let index = 0; index < number.length; index++) {
    let digit = Number(number[number.length - 1 - index]);
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

describe('sample transactions', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    expect(take(50, 11)).toEqual(take(50, 11));
    expect(take(50, 11)).not.toEqual(take(50, 12));
  });

  it('produces valid events of the input schema with unique ids and well-formed test card numbers', () => {
    const type = loadAvroSchema(packagePath('schemas/card-transaction.avsc'));
    const codec = createAvroCodec<CardTransaction>(type);
    const events = take(2_000, 5);
    for (const event of events) {
      expect(type.isValid(event)).toBe(true);
      expect({ ...codec.decode(codec.encode(event)) }).toEqual(event);
      expect(luhnValid(event.card_number)).toBe(true);
    }
    expect(new Set(events.map((event) => event.event_id)).size).toBe(events.length);
    expect(new Set(events.map((event) => event.channel))).toEqual(
      new Set(['POS', 'ECOMMERCE', 'ATM', 'MOTO']),
    );
  });
});

describe('the sample stream follows the training process', () => {
  const events = takeEvents(sampleTransactions({ seed: 11 }), 50_000);
  const share = (test: (event: (typeof events)[number]) => boolean) =>
    events.filter(test).length / events.length;

  it('has the channel mix of models/train.py', () => {
    expect(share((event) => event.channel === 'POS')).toBeCloseTo(0.55, 1);
    expect(share((event) => event.channel === 'ECOMMERCE')).toBeCloseTo(0.3, 1);
    expect(share((event) => event.channel === 'ATM')).toBeCloseTo(0.1, 1);
  });

  it('draws event times over September 2025 with the diurnal profile (quiet at night)', () => {
    const hours = events.map((event) => new Date(event.event_time).getUTCHours());
    const at = (hour: number) => hours.filter((h) => h === hour).length;
    expect(Math.min(...events.map((event) => event.event_time))).toBeGreaterThanOrEqual(Date.UTC(2025, 8, 1));
    expect(Math.max(...events.map((event) => event.event_time))).toBeLessThan(Date.UTC(2025, 9, 1));
    // Profile weights 5.5 at noon against 0.3 at 3 am.
    expect(at(12) / at(3)).toBeGreaterThan(10);
  });

  it('advances event times from a start time when one is given, as a live stream does', () => {
    const live = takeEvents(sampleTransactions({ seed: 11, startTime: 1_000_000 }), 100);
    for (let index = 1; index < live.length; index++) {
      expect(live[index]!.event_time).toBeGreaterThan(live[index - 1]!.event_time);
    }
  });
});

function takeEvents<T>(stream: Iterator<T>, count: number): T[] {
  return Array.from({ length: count }, () => stream.next().value as T);
}
