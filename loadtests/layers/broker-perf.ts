/**
 * The broker alone, measured by Kafka's own perf tools (kafka-producer-perf-test and
 * kafka-consumer-perf-test, from the cached jars): the ceiling no client library on this machine will
 * reach. Both flood the broker (closed loop), so their latencies are queueing under saturation, not
 * comparable with the open-loop latencies.
 */
import type { Kafka } from 'kafkajs';
import { createTopics, deleteTopics, kafkaTool, uniqueName } from '../lib/broker.js';

export interface BrokerLayer {
  records: number;
  recordBytes: number;
  partitions: number;
  producer: { recordsPerSecond: number; mbPerSecond: number; avgLatencyMs: number; p99LatencyMs: number };
  consumer: { recordsPerSecond: number; fetchRecordsPerSecond: number; mbPerSecond: number };
  commands: string[];
}

const PRODUCER_LINE =
  /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th/;

export async function measureBrokerLayer(
  kafka: Kafka,
  brokers: readonly string[],
  records: number,
  recordBytes: number,
  partitions: number,
): Promise<BrokerLayer> {
  const topic = uniqueName('perf');
  await createTopics(kafka, [topic], partitions);
  const tool = kafkaTool(brokers);
  const bootstrap = brokers.join(',');
  const producerArgs = [
    '--topic',
    topic,
    '--num-records',
    String(records),
    '--record-size',
    String(recordBytes),
    '--throughput',
    '-1',
    '--command-property',
    `bootstrap.servers=${bootstrap}`,
    'acks=all',
  ];
  const consumerArgs = ['--bootstrap-server', bootstrap, '--topic', topic, '--num-records', String(records)];
  try {
    const produced = tool('ProducerPerformance', producerArgs).match(PRODUCER_LINE);
    if (!produced) throw new Error('ProducerPerformance printed no summary line');
    const consumedLine = tool('ConsumerPerformance', consumerArgs)
      .trim()
      .split('\n')
      .map((line) => line.split(',').map((field) => field.trim()))
      .find((fields) => fields.length === 10 && /^\d/.test(fields[0]!));
    if (!consumedLine) throw new Error('ConsumerPerformance printed no result line');
    // Columns: start, end, MB, MB/s, records, records/s, rebalance ms, fetch ms, fetch MB/s, fetch records/s.
    return {
      records,
      recordBytes,
      partitions,
      producer: {
        recordsPerSecond: Number(produced[2]),
        mbPerSecond: Number(produced[3]),
        avgLatencyMs: Number(produced[4]),
        p99LatencyMs: Number(produced[8]),
      },
      consumer: {
        recordsPerSecond: Number(consumedLine[5]),
        fetchRecordsPerSecond: Number(consumedLine[9]),
        mbPerSecond: Number(consumedLine[3]),
      },
      commands: [
        `bash scripts/kafka/kafka.sh tool ProducerPerformance ${producerArgs.join(' ')}`,
        `bash scripts/kafka/kafka.sh tool ConsumerPerformance ${consumerArgs.join(' ')}`,
      ],
    };
  } finally {
    await deleteTopics(kafka, [topic]);
  }
}
