import { describe, expect, it } from 'vitest';
import { createEventSource, eventCodec, predictionCodec, readSequence } from '../../loadtests/lib/events.js';

function prediction(eventId: string): Buffer {
  return predictionCodec.encode({
    event_id: eventId,
    model_name: 'fraud-mlp',
    model_version: '1',
    score: 0.25,
    label: 'legit',
    threshold: 0.5,
    variant: 'primary',
    event_time: 1_767_225_600_000,
    scored_time: 1_767_225_600_010,
    latency_ms: 1.5,
  });
}

describe('readSequence', () => {
  const sequences = [0, 7, 9, 10, 63, 64, 12_345, 999_999, 2 ** 31 - 1, 2 ** 40 + 17];

  it('reads the sequence number the event source put in each event', () => {
    const source = createEventSource('unique');
    for (const sequence of sequences) {
      const encoded = eventCodec.encode(source.next(sequence));
      expect(readSequence(encoded)).toBe(sequence);
      expect(Number(eventCodec.decode(encoded).event_id)).toBe(sequence);
    }
  });

  it('reads the same number back from the prediction for that event', () => {
    for (const sequence of sequences) expect(readSequence(prediction(String(sequence)))).toBe(sequence);
  });

  it('reads an event_id whose length takes more than one varint byte', () => {
    // 64 characters zig-zag to 128, the first length that needs a second varint byte; leading zeros keep
    // the number exact.
    for (const padding of [63, 64, 200, 9_000]) {
      const eventId = `${'0'.repeat(padding)}4321`;
      expect(readSequence(prediction(eventId))).toBe(4_321);
      const event = { ...createEventSource('repeats').next(0), event_id: eventId };
      expect(readSequence(eventCodec.encode(event))).toBe(4_321);
    }
  });
});
