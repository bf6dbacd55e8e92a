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
