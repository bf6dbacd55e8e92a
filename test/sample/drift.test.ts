import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors/index.js';
import { parseDriftRule, sampleTransactions, seededRandom, withDrift } from '../../src/sample/index.js';

const EVENTS = 20_000;

function take<T>(stream: Iterator<T>, count: number): T[] {
  return Array.from({ length: count }, () => stream.next().value as T);
}

describe('drift rules', () => {
  it('parses the three kinds', () => {
    expect(parseDriftRule('units:amount_minor=100')).toEqual({
      kind: 'units',
      field: 'amount_minor',
      factor: 100,
    });
    expect(parseDriftRule('set:channel=MOTO@0.3')).toEqual({
      kind: 'set',
      field: 'channel',
      value: 'MOTO',
      share: 0.3,
    });
    expect(parseDriftRule('nulls:device_id@0.5')).toEqual({ kind: 'nulls', field: 'device_id', share: 0.5 });
  });

  it.each([
    ['units:channel=2', 'the field must be one of amount_minor'],
    ['units:amount_minor=0', 'non-zero number'],
    ['set:channel=MOTO@1.5', 'the share must be in (0, 1]'],
    ['nulls:amount_minor@0.5', 'the field must be one of device_id'],
    ['shift:amount_minor', 'expected units:<field>=<factor>'],
  ])('refuses %s, saying why', (rule, message) => {
    expect(() => parseDriftRule(rule)).toThrow(ConfigurationError);
    expect(() => parseDriftRule(rule)).toThrow(message);
  });

  it('changes units on every event and leaves the rest of the stream as it was', () => {
    const plain = take(sampleTransactions({ seed: 3 }), EVENTS);
    const drifted = take(
      withDrift(sampleTransactions({ seed: 3 }), [parseDriftRule('units:amount_minor=100')], seededRandom(4)),
      EVENTS,
    );
    drifted.forEach((event, index) => {
      expect(event.amount_minor).toBe(plain[index]!.amount_minor * 100);
      expect(event.event_id).toBe(plain[index]!.event_id);
    });
  });

  it('sets a value and empties a field in about the share asked for', () => {
    const rules = [parseDriftRule('set:channel=MOTO@0.3'), parseDriftRule('nulls:latitude@0.5')];
    const plain = take(sampleTransactions({ seed: 5 }), EVENTS);
    const drifted = take(withDrift(sampleTransactions({ seed: 5 }), rules, seededRandom(6)), EVENTS);
    const share = (events: typeof plain, test: (event: (typeof plain)[number]) => boolean) =>
      events.filter(test).length / events.length;
    const motoBefore = share(plain, (event) => event.channel === 'MOTO');
    // MOTO in 30% of events on top of the 5% that already were: 0.3 + 0.7 × 0.05.
    expect(share(drifted, (event) => event.channel === 'MOTO')).toBeCloseTo(0.3 + 0.7 * motoBefore, 1);
    const nullBefore = share(plain, (event) => event.latitude === null);
    expect(share(drifted, (event) => event.latitude === null)).toBeCloseTo(0.5 + 0.5 * nullBefore, 1);
  });
});
