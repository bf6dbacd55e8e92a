/**
 * The Avro layer alone: what decoding an event and encoding its prediction costs one thread, with no
 * Kafka and no model. Feature extraction is timed beside it, being the other per-record work the
 * service's main thread does.
 */
import { join } from 'node:path';
import { packagePath } from '../../src/config/index.js';
import { compileFeatureExtractor, type DecodedRecord } from '../../src/features/index.js';
import { readManifest } from '../../src/models/index.js';
import { type Prediction, type ScoredEvent, toPrediction } from '../../src/routing/index.js';
import { createEventSource, eventCodec, predictionCodec } from '../lib/events.js';
import { type Throughput, timeSync } from './measure.js';

export interface CodecLayer {
  records: number;
  decode: Throughput;
  features: Throughput;
  encodePrediction: Throughput;
  decodeAndEncode: Throughput;
}

const POOL = 10_000;

export async function measureCodecLayer(model: string, seconds: number): Promise<CodecLayer> {
  const source = createEventSource('unique');
  const encoded = Array.from({ length: POOL }, (_, sequence) => eventCodec.encode(source.next(sequence)));
  const manifest = await readManifest(join(packagePath('models'), model, '1'));
  const extractor = compileFeatureExtractor(manifest.features, eventCodec.type);
  const context = { manifest, variant: 'primary', fetchedAt: 0, scoredAt: 0, scoredTime: Date.now() };
  const decoded = encoded.map((buffer) => eventCodec.decode(buffer) as unknown as DecodedRecord);
  const predictions = decoded.map((record) => toPrediction(record as unknown as ScoredEvent, 0.5, context));
  const rows = new Float32Array(POOL * extractor.width);
  const encodePrediction = (prediction: Prediction) => predictionCodec.encode(prediction);

  return {
    records: POOL,
    decode: timeSync(seconds, () => {
      for (const buffer of encoded) eventCodec.decode(buffer);
      return POOL;
    }),
    features: timeSync(seconds, () => {
      for (let row = 0; row < POOL; row++) extractor.extractInto(decoded[row]!, rows, row);
      return POOL;
    }),
    encodePrediction: timeSync(seconds, () => {
      for (const prediction of predictions) encodePrediction(prediction);
      return POOL;
    }),
    decodeAndEncode: timeSync(seconds, () => {
      for (const buffer of encoded) {
        const event = eventCodec.decode(buffer) as unknown as ScoredEvent;
        encodePrediction(toPrediction(event, 0.5, context));
      }
      return POOL;
    }),
  };
}
