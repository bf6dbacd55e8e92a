/**
 * How fast any service could drain on this machine, measured in the same run as the loops' drains: a
 * service must do at least what the bare pipe does (consume and publish every record through kafkajs) and
 * what no implementation of the job avoids (decode the event, extract its features, run the model, encode
 * the prediction). The pipe's CPU per record plus those layers' (one thread each, no Kafka) is the least a
 * record can cost, so cores ÷ that cost bounds the drain rate: over the machine's every CPU (a bound no
 * service reaches, the broker runs on them too), and over the cores the loops actually got.
 */
import { loadConfig } from '../../src/config/index.js';
import { measureCodecLayer } from '../layers/codec.js';
import { measureOnnxruntimeLayer } from '../layers/onnxruntime.js';

export interface RecordFloor {
  decodeMicros: number;
  featuresMicros: number;
  encodeMicros: number;
  /** Per row, in batches of the service's model.maxBatchSize, what its micro-batcher aims for under load. */
  inferenceMicros: number;
  inferenceBatchSize: number;
}

export async function measureRecordFloor(model: string, secondsPerLayer: number): Promise<RecordFloor> {
  const codec = await measureCodecLayer(model, secondsPerLayer);
  const serviceMaxBatchSize = loadConfig({ env: {} }).model.maxBatchSize;
  const onnx = await measureOnnxruntimeLayer(model, secondsPerLayer, [serviceMaxBatchSize]);
  return {
    decodeMicros: codec.decode.microsPerUnit,
    featuresMicros: codec.features.microsPerUnit,
    encodeMicros: codec.encodePrediction.microsPerUnit,
    inferenceMicros: onnx.byBatchSize[0]!.microsPerUnit,
    inferenceBatchSize: serviceMaxBatchSize,
  };
}

export const layerMicros = (floor: RecordFloor) =>
  floor.decodeMicros + floor.featuresMicros + floor.encodeMicros + floor.inferenceMicros;

export interface DrainCeiling {
  /** The pipe's CPU per record plus the layers'. */
  microsPerRecord: number;
  /** The rate at that cost on every CPU of the machine, over the pipe's drain rate. */
  allCpusVsPipe: number;
  /** The same on the cores the service with loops auto used. */
  coresUsedVsPipe: number;
}

export function drainCeiling(
  pipe: { rate: number; cpuMicrosPerRecord: number },
  floor: RecordFloor,
  cpus: number,
  coresUsed: number,
): DrainCeiling {
  const microsPerRecord = pipe.cpuMicrosPerRecord + layerMicros(floor);
  const rateOn = (cores: number) => (cores * 1e6) / microsPerRecord;
  return {
    microsPerRecord,
    allCpusVsPipe: rateOn(cpus) / pipe.rate,
    coresUsedVsPipe: rateOn(coresUsed) / pipe.rate,
  };
}
