import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseTimeArgument } from '../../src/cli/time-range.js';

describe('report time arguments', () => {
  it('reads a time ago in seconds, minutes, hours or days', () => {
    expect(parseTimeArgument('30s')).toEqual({ ago: 30_000 });
    expect(parseTimeArgument('15m')).toEqual({ ago: 900_000 });
    expect(parseTimeArgument('1.5h')).toEqual({ ago: 5_400_000 });
    expect(parseTimeArgument('7d')).toEqual({ ago: 604_800_000 });
  });

  it('reads ISO 8601 instants, with or without a zone offset', () => {
    expect(parseTimeArgument('2026-05-01T10:00:00Z')).toEqual({ at: Date.UTC(2026, 4, 1, 10) });
    expect(parseTimeArgument('2026-05-01T12:00:00.250+02:00')).toEqual({
      at: Date.UTC(2026, 4, 1, 10, 0, 0, 250),
    });
    expect(parseTimeArgument('2026-05-01')).toEqual({ at: Date.UTC(2026, 4, 1) });
  });

  it('refuses anything else rather than guess', () => {
    for (const text of ['15', '15x', 'yesterday', 'May 1 2026', '2026-13-01T00:00:00Z', '-5m']) {
      expect(() => parseTimeArgument(text), text).toThrow(InvalidArgumentError);
    }
  });
});
