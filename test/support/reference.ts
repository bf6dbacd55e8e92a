/**
 * Scores computed without any of streamscore's code: the sample model's features written out by hand
 * and a plain onnxruntime session scoring one row at a time.
 */
import ort from 'onnxruntime-node';
import type { CardTransaction } from '../../src/sample/index.js';

const HIGH_RISK_MCCS = new Set(['5967', '7995', '4829', '6051', '5816']);

export function handWrittenFeatures(event: CardTransaction): number[] {
  return [
    Math.log1p(event.amount_minor / 100),
    event.channel === 'ECOMMERCE' ? 1 : 0,
    event.channel === 'ECOMMERCE' || event.channel === 'MOTO' ? 1 : 0,
    event.country !== event.card_country ? 1 : 0,
    HIGH_RISK_MCCS.has(event.merchant_category) ? 1 : 0,
    event.device_id === null ? 1 : 0,
    event.latitude === null ? 1 : 0,
    new Date(event.event_time).getUTCHours(),
  ];
}

/** event_id → score of the fraud model at `modelFile` (probabilities column 1). */
export async function referenceScores(
  events: CardTransaction[],
  modelFile: string,
): Promise<Map<string, number>> {
  const session = await ort.InferenceSession.create(modelFile);
  const scores = new Map<string, number>();
  for (const event of events) {
    const input = new ort.Tensor('float32', Float32Array.from(handWrittenFeatures(event)), [1, 8]);
    const output = await session.run({ features: input });
    scores.set(event.event_id, (output.probabilities!.data as Float32Array)[1]!);
  }
  await session.release();
  return scores;
}
