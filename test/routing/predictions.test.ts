import { describe, expect, it } from 'vitest';
import { createAvroCodec, loadAvroSchema } from '../../src/codec/index.js';
import { packagePath } from '../../src/config/index.js';
import { readManifest } from '../../src/models/index.js';
import { blankPrediction, type Prediction, toPrediction, writePrediction } from '../../src/routing/index.js';

const manifest = await readManifest(packagePath('models/fraud-gbm/1'));
const context = {
  manifest,
  variant: 'primary',
  fetchedAt: 100,
  scoredAt: 103.5,
  scoredTime: 1_700_000_000_123,
};
const event = { event_id: 'e-1', event_time: 1_700_000_000_000 };

describe('predictions', () => {
  it('labels a score at or above the threshold positive and below it negative', () => {
    expect(toPrediction(event, manifest.threshold, context).label).toBe(manifest.labels.positive);
    expect(toPrediction(event, manifest.threshold - 1e-6, context).label).toBe(manifest.labels.negative);
  });

  it('carries the event, the model identity and the timing, and encodes with the prediction schema', () => {
    const prediction = toPrediction(event, 0.25, context);
    expect(prediction).toEqual({
      event_id: 'e-1',
      model_name: 'fraud-gbm',
      model_version: '1',
      score: 0.25,
      label: 0.25 >= manifest.threshold ? 'fraud' : 'legit',
      threshold: manifest.threshold,
      variant: 'primary',
      event_time: 1_700_000_000_000,
      scored_time: 1_700_000_000_123,
      latency_ms: 3.5,
    });
    const codec = createAvroCodec<Prediction>(loadAvroSchema(packagePath('schemas/prediction.avsc')));
    expect({ ...codec.decode(codec.encode(prediction)) }).toEqual(prediction);
  });

  it('refills one prediction per record with nothing left of the previous one', () => {
    const codec = createAvroCodec<Prediction>(loadAvroSchema(packagePath('schemas/prediction.avsc')));
    const canary = { ...context, variant: 'canary', manifest: { ...manifest, name: 'other', version: '7' } };
    const later = { event_id: 'e-2', event_time: 1_700_000_000_500 };
    const reused = blankPrediction();
    const first = codec.encode(writePrediction(reused, event, 0.25, context));
    expect(writePrediction(reused, later, 0.875, canary)).toBe(reused);
    const second = codec.encode(reused);
    expect(first).toEqual(codec.encode(toPrediction(event, 0.25, context)));
    expect({ ...codec.decode(second) }).toEqual(toPrediction(later, 0.875, canary));
  });
});
