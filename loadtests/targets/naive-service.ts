/**
 * Benchmark target: the service as a first attempt would write it, the floor the real one is measured
 * against. kafkajs eachMessage; per message: decode, features, one onnxruntime run() on the main thread,
 * encode, and one awaited producer send of that single prediction. No micro-batching, no worker threads,
 * no cache. Offsets are kafkajs's auto-commit. Not product code: it exists only to be outrun.
 */
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import ort from 'onnxruntime-node';
import { createAvroCodec, loadAvroSchema } from '../../src/codec/index.js';
import { compileFeatureExtractor, type DecodedRecord } from '../../src/features/index.js';
import { readModelArtifact } from '../../src/models/index.js';
import { type Prediction, type ScoredEvent, toPrediction } from '../../src/routing/index.js';
import { runTarget } from './child.js';
import { serviceConfig } from './target-config.js';

await runTarget(async (target) => {
  const config = serviceConfig(target, 'bench-naive');
  const inputCodec = createAvroCodec<DecodedRecord>(loadAvroSchema(config.input.schema));
  const outputCodec = createAvroCodec<Prediction>(loadAvroSchema(config.output.schema));
  // The fixture models have one version each; the naive service does not follow new ones.
  const artifact = await readModelArtifact(join(config.model.repository, config.model.name, '1'));
  const { manifest } = artifact;
  const features = compileFeatureExtractor(manifest.features, inputCodec.type);
  const session = await ort.InferenceSession.create(artifact.bytes, {
    executionMode: 'sequential',
    intraOpNumThreads: config.model.intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const inputName = manifest.inputs[0]!.name;

  const kafka = new Kafka({
    clientId: 'naive-service',
    brokers: [...config.kafka.brokers],
    logLevel: logLevel.ERROR,
  });
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  const consumer = kafka.consumer({ groupId: config.input.groupId, allowAutoTopicCreation: false });
  let outputs = 0;
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: [config.input.topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const fetchedAt = performance.now();
      const record = inputCodec.decode(message.value);
      const row = new Float32Array(features.width);
      features.extractInto(record, row, 0);
      const results = await session.run({ [inputName]: new ort.Tensor('float32', row, [1, features.width]) });
      const output = results[manifest.output.name] as ort.Tensor;
      const columns = output.dims.length > 1 ? Number(output.dims[1]) : 1;
      const score = Number((output.data as Float32Array)[columns > 1 ? manifest.output.column : 0]);
      const prediction = toPrediction(record as unknown as ScoredEvent, score, {
        manifest,
        variant: config.model.variant,
        fetchedAt,
        scoredAt: performance.now(),
        scoredTime: Date.now(),
      });
      await producer.send({
        topic: config.output.topic,
        messages: [{ key: message.key, value: outputCodec.encode(prediction) }],
        acks: -1,
      });
      outputs += 1;
    },
  });
  return {
    outputs: () => outputs,
    stop: async () => {
      await consumer.disconnect();
      await producer.disconnect();
      await session.release();
    },
  };
});
