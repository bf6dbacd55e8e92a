import { describe, expect, it } from 'vitest';
import { loadAvroSchema } from '../../src/codec/index.js';
import { loadConfig, packagePath } from '../../src/config/index.js';
import { subjectFor } from '../../src/service/index.js';

const prediction = loadAvroSchema(packagePath('schemas/prediction.avsc'));
const configWith = (strategy: string) =>
  loadConfig({
    env: {
      STREAMSCORE_OUTPUT_FORMAT: 'confluent',
      STREAMSCORE_REGISTRY_URLS: 'http://registry:8081',
      STREAMSCORE_REGISTRY_SUBJECT_STRATEGY: strategy,
    },
  });

describe('output subjects', () => {
  it('names a topic’s value subject <topic>-value by default (TopicNameStrategy)', () => {
    expect(subjectFor(configWith('topic'), 'fraud-scores', prediction)).toBe('fraud-scores-value');
  });

  it('names it after the record’s full name with RecordNameStrategy', () => {
    expect(subjectFor(configWith('record'), 'fraud-scores', prediction)).toBe(
      'io.streamscore.predictions.Prediction',
    );
  });
});
