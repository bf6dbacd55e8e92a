import { describe, expect, it } from 'vitest';
import { closestNames, didYouMean, editDistance } from '../../src/config/closest-names.js';

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions and neighbour swaps as one edit each', () => {
    expect(editDistance('topic', 'topic')).toBe(0);
    expect(editDistance('DEAD_LETTER', 'DEADLETTER')).toBe(1);
    expect(editDistance('brokers', 'broker')).toBe(1);
    expect(editDistance('level', 'lever')).toBe(1);
    expect(editDistance('LEVLE', 'LEVEL')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});

describe('closestNames', () => {
  const names = ['INPUT_TOPIC', 'OUTPUT_TOPIC', 'LOG_LEVEL', 'LOG_PRETTY'];

  it('returns the nearest name, ignoring case', () => {
    expect(closestNames('LOG_LEVLE', names)).toEqual(['LOG_LEVEL']);
    expect(closestNames('log_pretty', names)).toEqual(['LOG_PRETTY']);
  });

  it('returns every name that is equally near', () => {
    expect(closestNames('PUT_TOPIC', ['INPUT_TOPIC', 'OUTPUT_TOPIC', 'PUT_TOPICS', 'PUT_TOPIK'])).toEqual([
      'PUT_TOPICS',
      'PUT_TOPIK',
    ]);
  });

  it('returns nothing when no name is near', () => {
    expect(closestNames('TOTALLY_UNRELATED', names)).toEqual([]);
    expect(closestNames('X', names)).toEqual([]);
  });

  it('words the suggestion, or says nothing', () => {
    expect(didYouMean('LOG_LEVLE', names)).toBe('; did you mean LOG_LEVEL?');
    expect(didYouMean('PUT_TOPIC', ['PUT_TOPICS', 'PUT_TOPIK'], (name) => `"${name}"`)).toBe(
      '; did you mean "PUT_TOPICS" or "PUT_TOPIK"?',
    );
    expect(didYouMean('TOTALLY_UNRELATED', names)).toBe('');
  });
});
