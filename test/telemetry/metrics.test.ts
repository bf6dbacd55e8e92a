import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { BadRecordError } from '../../src/errors/index.js';
import {
  type BatchPublished,
  batchPublished,
  type PipelineMetrics,
  type RecordRejected,
  recordRejected,
  registerPipelineMetrics,
} from '../../src/telemetry/index.js';

interface Point {
  attributes: Record<string, unknown>;
  value: unknown;
}

async function pointsOf(exporter: PrometheusExporter, name: string): Promise<Point[]> {
  const { resourceMetrics } = await exporter.collect();
  const metric = resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .find((candidate) => candidate.descriptor.name === name);
  return (metric?.dataPoints ?? []).map(({ attributes, value }) => ({ attributes, value }));
}

function published(overrides: Partial<BatchPublished>): BatchPublished {
  return {
    topic: 'in',
    partition: 0,
    records: 10,
    predictions: 10,
    lastOffset: '9',
    highWatermark: '10',
    lastTimestampMs: Date.now(),
    fetchedAt: 0,
    publishedAt: 1,
    ...overrides,
  };
}

describe('pipeline metrics', () => {
  let metrics: PipelineMetrics | undefined;
  let provider: MeterProvider | undefined;

  const start = (servingVersions: () => { model: string; version: string }[] = () => []) => {
    const exporter = new PrometheusExporter({ preventServerStart: true });
    provider = new MeterProvider({ readers: [exporter] });
    metrics = registerPipelineMetrics(provider.getMeter('test'), {
      inputTopic: 'in',
      inferenceRows: () => [],
      servingVersions,
      version: 'test',
    });
    return exporter;
  };

  afterEach(async () => {
    metrics?.close();
    await provider?.shutdown();
  });

  it('creates every counter series of the input topic at zero, one per bad-record code', async () => {
    const exporter = start();
    expect(await pointsOf(exporter, 'streamscore.records.in')).toEqual([
      { attributes: { topic: 'in' }, value: 0 },
    ]);
    const codes = (await pointsOf(exporter, 'streamscore.dead.lettered')).map(
      (point) => point.attributes.code,
    );
    expect(codes).toContain('FEATURE_NOT_FINITE');
    expect(codes).toContain('INFERENCE_RECORD_FAILED');
    expect(codes).not.toContain('KAFKA_UNAVAILABLE');
  });

  it('counts dead letters under their code once delivered, decode errors apart, not when rejected', async () => {
    const exporter = start();
    recordRejected.publish({
      topic: 'in',
      partition: 0,
      offset: '3',
      error: new BadRecordError('RECORD_TRUNCATED', 'truncated'),
    } satisfies RecordRejected);
    const truncated = (points: Point[]) =>
      points.find((point) => point.attributes.code === 'RECORD_TRUNCATED');
    // Rejected, but its batch not delivered yet (a retried or dropped batch is rejected again later).
    expect(truncated(await pointsOf(exporter, 'streamscore.dead.lettered'))?.value).toBe(0);
    batchPublished.publish(
      published({
        rejections: new Map([
          ['RECORD_TRUNCATED', 2],
          ['INFERENCE_RECORD_FAILED', 1],
        ]),
      }),
    );
    expect(truncated(await pointsOf(exporter, 'streamscore.dead.lettered'))?.value).toBe(2);
    expect(truncated(await pointsOf(exporter, 'streamscore.decode.errors'))?.value).toBe(2);
    expect((await pointsOf(exporter, 'streamscore.inference.errors'))[0]?.value).toBe(1);
  });

  it('reports lag in records and, while records wait, the age of the last delivered record', async () => {
    const exporter = start();
    batchPublished.publish(published({ partition: 0, lastOffset: '9', highWatermark: '10' }));
    batchPublished.publish(
      published({ partition: 1, lastOffset: '9', highWatermark: '510', lastTimestampMs: Date.now() - 5_000 }),
    );
    const byPartition = async (name: string) =>
      Object.fromEntries(
        (await pointsOf(exporter, name)).map((point) => [point.attributes.partition, point.value]),
      );
    expect(await byPartition('kafka.consumergroup.group.lag')).toEqual({ '0': 0, '1': 500 });
    const seconds = await byPartition('kafka.consumergroup.group.lag.seconds');
    expect(seconds['0']).toBe(0);
    expect(seconds['1']).toBeGreaterThanOrEqual(5);
  });

  it('reports 0 lag for a partition given to another member, instead of its last value', async () => {
    const exporter = start();
    batchPublished.publish(published({ partition: 0, lastOffset: '9', highWatermark: '110' }));
    batchPublished.publish(published({ partition: 1, lastOffset: '9', highWatermark: '60' }));
    metrics!.assigned([1]);
    const lag = Object.fromEntries(
      (await pointsOf(exporter, 'kafka.consumergroup.group.lag')).map((point) => [
        point.attributes.partition,
        point.value,
      ]),
    );
    expect(lag).toEqual({ '0': 0, '1': 50 });
  });

  it('reports a version that stopped serving as 0, instead of leaving it at 1', async () => {
    let version = '1';
    const exporter = start(() => [{ model: 'fraud-gbm', version }]);
    await pointsOf(exporter, 'streamscore.model.serving');
    version = '2';
    const serving = await pointsOf(exporter, 'streamscore.model.serving');
    expect(serving.map((point) => [point.attributes.version, point.value]).sort()).toEqual([
      ['1', 0],
      ['2', 1],
    ]);
  });
});
