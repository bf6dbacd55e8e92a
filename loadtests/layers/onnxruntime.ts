/**
 * onnxruntime alone: run() on batches of real feature rows, on this thread, with the session options the
 * service's workers use (one intra-op thread, sequential). Batch 1 is what the naive service pays per
 * record; the service's maximum batch size is what its micro-batcher aims for under load.
 */
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { loadConfig, packagePath } from '../../src/config/index.js';
import { compileFeatureExtractor, type DecodedRecord } from '../../src/features/index.js';
import { readModelArtifact } from '../../src/models/index.js';
import { createEventSource, eventCodec } from '../lib/events.js';
import { type Throughput, timeAsync } from './measure.js';

export interface OnnxruntimeLayer {
  model: string;
  /** The service's model.maxBatchSize default. */
  serviceMaxBatchSize: number;
  byBatchSize: (Throughput & { batchSize: number; microsPerCall: number })[];
}

export async function measureOnnxruntimeLayer(
  model: string,
  seconds: number,
  batchSizes: readonly number[] = [1, 8, 32, 128, 256],
): Promise<OnnxruntimeLayer> {
  const defaults = loadConfig({ env: {} });
  const artifact = await readModelArtifact(join(packagePath('models'), model, '1'));
  const { manifest } = artifact;
  const extractor = compileFeatureExtractor(manifest.features, eventCodec.type);
  const session = await ort.InferenceSession.create(artifact.bytes, {
    executionMode: 'sequential',
    intraOpNumThreads: defaults.model.intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const largest = Math.max(...batchSizes);
  const source = createEventSource('unique');
  const rows = new Float32Array(largest * extractor.width);
  for (let row = 0; row < largest; row++) {
    const record = eventCodec.decode(eventCodec.encode(source.next(row))) as unknown as DecodedRecord;
    extractor.extractInto(record, rows, row);
  }
  const inputName = manifest.inputs[0]!.name;
  const byBatchSize: OnnxruntimeLayer['byBatchSize'] = [];
  try {
    for (const batchSize of batchSizes) {
      const tensor = new ort.Tensor('float32', rows.subarray(0, batchSize * extractor.width), [
        batchSize,
        extractor.width,
      ]);
      const timed = await timeAsync(seconds, async () => {
        await session.run({ [inputName]: tensor }, [manifest.output.name]);
        return batchSize;
      });
      byBatchSize.push({ batchSize, ...timed, microsPerCall: timed.microsPerUnit * batchSize });
    }
  } finally {
    await session.release();
  }
  return { model, serviceMaxBatchSize: defaults.model.maxBatchSize, byBatchSize };
}
