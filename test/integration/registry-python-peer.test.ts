/**
 * An outside producer and consumer that are not JavaScript, through the real registry: Python's
 * confluent-kafka with its own AvroSerializer and SchemaRegistryClient publishes card transactions
 * (scripts/peers/registry_peer.py); streamscore, reading and writing the wire format, scores them; the same
 * library's AvroDeserializer reads the predictions back. Every event comes back once, with the score an
 * independent onnxruntime path gives it, under the id the registry holds for <output>-value.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { packagePath } from '../../src/config/index.js';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { type RunningService, startService } from '../../src/service/index.js';
import { createTopics, testKafka, uniqueName } from '../support/kafka.js';
import { capturingLogger } from '../support/logs.js';
import { PEER_PYTHON, requirePeerVenv } from '../support/peers.js';
import { referenceScores } from '../support/reference.js';
import { MODEL_V1 } from '../support/repository.js';
import { serviceTestConfig } from '../support/service.js';

const brokers = inject('kafkaBrokers');
const registryUrl = inject('registryUrl');
const kafka = testKafka(brokers);
const PEER = packagePath('scripts/peers/registry_peer.py');
const EVENTS = 500;

/** Runs the peer with `input` on its stdin; resolves its stdout, rejects with its stderr. */
function peer(args: string[], input = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      PEER_PYTHON,
      [PEER, ...args, '--bootstrap', brokers.join(','), '--registry', registryUrl],
      {
        cwd: packagePath(''),
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`peer ${args[0]} exited ${code}: ${stderr}`)),
    );
    child.stdin.end(input);
  });
}

interface PeerPrediction {
  event_id: string;
  score: number;
  model_name: string;
  _schema_id: number;
}

describe('a Python producer and consumer with confluent-kafka serdes, through the real registry', () => {
  const stream = sampleTransactions({ seed: 5_151 });
  const events = Array.from({ length: EVENTS }, () => stream.next().value as CardTransaction);
  let service: RunningService;
  let produced: { produced: number; schema_id: number };
  let predictions: PeerPrediction[];
  let outputId: number;

  beforeAll(async () => {
    requirePeerVenv();
    const topics = {
      input: uniqueName('python-registry-transactions'),
      output: uniqueName('python-registry-predictions'),
      groupId: uniqueName('python-registry-group'),
    };
    await createTopics(
      kafka,
      [topics.input, topics.output, `${topics.input}.DLT`, `${topics.output}.comparisons`],
      3,
    );
    service = await startService(
      serviceTestConfig(brokers, topics, {
        input: { format: 'confluent' },
        output: { format: 'confluent' },
        registry: { urls: [registryUrl] },
        model: { pollIntervalMs: 0 },
      }),
      capturingLogger('warn').logger,
    );
    const lines = events.map((event) => JSON.stringify(event)).join('\n');
    produced = JSON.parse(await peer(['produce', '--topic', topics.input], `${lines}\n`));
    const read = await peer([
      'consume',
      '--topic',
      topics.output,
      '--count',
      String(EVENTS),
      '--timeout',
      '90',
    ]);
    predictions = read
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as PeerPrediction);
    const latest = await fetch(`${registryUrl}/subjects/${topics.output}-value/versions/latest`);
    outputId = ((await latest.json()) as { id: number }).id;
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('publishes every event through its own serializer, under an id it registered', () => {
    expect(produced.produced).toBe(EVENTS);
    expect(produced.schema_id).toBeGreaterThan(0);
  });

  it('reads back one prediction per event, each with the score an independent path gives', async () => {
    const expected = await referenceScores(events, join(MODEL_V1, 'model.onnx'));
    expect(new Set(predictions.map((prediction) => prediction.event_id))).toEqual(new Set(expected.keys()));
    expect(predictions).toHaveLength(EVENTS);
    for (const prediction of predictions) {
      expect(prediction.score).toBeCloseTo(expected.get(prediction.event_id)!, 5);
      expect(prediction.model_name).toBe('fraud-gbm');
    }
  });

  it('finds the predictions under the id the registry holds for <output>-value', () => {
    expect(new Set(predictions.map((prediction) => prediction._schema_id))).toEqual(new Set([outputId]));
    expect(service.counters.rejected).toBe(0);
  });
});
