/**
 * Two consumer loops in one process (input.loops = 2), exactly-once: the group sees two members sharing the
 * partitions, every event is scored once, one /metrics and one /readyz answer for both, a new model version
 * reaches both, and a stop leaves the group empty.
 */
import { AssignerProtocol } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { StreamscoreError } from '../../src/errors/index.js';
import { type RunningLoops, startLoops } from '../../src/loops/index.js';
import type { Prediction } from '../../src/routing/index.js';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { predictionCodec } from '../support/codecs.js';
import {
  createTopics,
  eventually,
  publishEvents,
  readRecords,
  testKafka,
  uniqueName,
  withAdmin,
} from '../support/kafka.js';
import { capturingLogger } from '../support/logs.js';
import { metricValue, readExposition, samplesOf } from '../support/prometheus.js';
import { MODEL_V1, MODEL_V2, publishVersion, temporaryRepository } from '../support/repository.js';
import { serviceTestConfig } from '../support/service.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers);
const PARTITIONS = 4;
const EACH_PHASE = 6_000;

async function groupMembers(groupId: string): Promise<{ state: string; partitions: number[][] }> {
  const [group] = (await withAdmin(kafka, (admin) => admin.describeGroups([groupId]))).groups;
  return {
    state: group?.state ?? 'Unknown',
    partitions: (group?.members ?? []).map((member) => {
      const assignment = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
      return Object.values(assignment?.assignment ?? {}).flat();
    }),
  };
}

async function scrape(adminUrl: string) {
  return readExposition(await (await fetch(`${adminUrl}/metrics`)).text());
}

describe('two consumer loops in one process', () => {
  const input = uniqueName('loops-transactions');
  const output = uniqueName('loops-predictions');
  const groupId = uniqueName('loops-group');
  const stream = sampleTransactions({ seed: 1_414 });
  const take = (count: number) => Array.from({ length: count }, () => stream.next().value as CardTransaction);
  const before = take(EACH_PHASE);
  const after = take(EACH_PHASE);
  let loops: RunningLoops | undefined;
  let fatal: Error | undefined;
  let members: { state: string; partitions: number[][] };
  let firstScrape: Awaited<ReturnType<typeof scrape>>;
  let predictions: { partition: number; prediction: Prediction }[];

  beforeAll(async () => {
    const repository = await temporaryRepository();
    await publishVersion(repository, MODEL_V1, '1');
    await createTopics(kafka, [input, output, `${input}.DLT`], PARTITIONS);
    const config = serviceTestConfig(
      brokers,
      { input, output, groupId },
      { input: { loops: 2 }, output: { exactlyOnce: true }, model: { repository, pollIntervalMs: 100 } },
    );
    loops = await startLoops(config, capturingLogger('warn').logger, {
      count: 2,
      version: 'test',
      onFatal: (error) => {
        fatal = error;
      },
    });
    members = await groupMembers(groupId);
    await publishEvents(kafka, input, before);
    await readRecords(kafka, output, before.length, 120_000);
    const adminUrl = loops.adminUrl;
    const delivered = await eventually(async () => {
      firstScrape = await scrape(adminUrl);
      return metricValue(firstScrape, 'streamscore_predictions_out_total') === before.length;
    }, 30_000);
    expect(delivered).toBe(true);

    await publishVersion(repository, MODEL_V2, '2');
    const servingLoops = async () =>
      samplesOf(await scrape(adminUrl), 'streamscore_model_serving')
        .filter((sample) => sample.value === 1)
        .map((sample) => `${sample.labels.loop}:${sample.labels.version}`)
        .sort()
        .join(' ');
    await eventually(async () => (await servingLoops()) === '0:2 1:2', 30_000);
    expect(await servingLoops()).toBe('0:2 1:2');
    await publishEvents(kafka, input, after);
    predictions = (await readRecords(kafka, output, before.length + after.length, 120_000)).map(
      ({ partition, message }) => ({ partition, prediction: predictionCodec.decode(message.value) }),
    );
  });

  afterAll(async () => {
    await loops?.stop();
  });

  it('joins the group as two members that share the partitions between them', () => {
    expect(members.state).toBe('Stable');
    expect(members.partitions).toHaveLength(2);
    for (const held of members.partitions) expect(held.length).toBeGreaterThan(0);
    expect(members.partitions.flat().sort()).toEqual([0, 1, 2, 3]);
  });

  it('scores every event exactly once across the loops', () => {
    const ids = predictions.map(({ prediction }) => prediction.event_id);
    expect(ids).toHaveLength(before.length + after.length);
    expect(new Set(ids)).toEqual(new Set([...before, ...after].map((event) => event.event_id)));
  });

  it('answers one /metrics for the process: counters summed over loops, gauges per loop', () => {
    expect(metricValue(firstScrape, 'streamscore_records_in_total')).toBe(before.length);
    const loopsServing = samplesOf(firstScrape, 'streamscore_model_serving').map(
      (sample) => sample.labels.loop,
    );
    expect(loopsServing.sort()).toEqual(['0', '1']);
  });

  it('switches every loop to the new version: every partition scores the second phase with it', () => {
    const second = new Set(after.map((event) => event.event_id));
    const late = predictions.filter(({ prediction }) => second.has(prediction.event_id));
    expect(new Set(late.map(({ partition }) => partition))).toEqual(new Set([0, 1, 2, 3]));
    expect(late.every(({ prediction }) => prediction.model_version === '2')).toBe(true);
  });

  it('answers readiness for both loops and the model routes through the process', async () => {
    const ready = await fetch(`${loops!.adminUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, reasons: [] });
    const models = (await (await fetch(`${loops!.adminUrl}/v1/models`)).json()) as { champion: string }[];
    expect(models.map((model) => model.champion)).toEqual(['fraud-gbm@2']);
    const unknown = await fetch(`${loops!.adminUrl}/v1/nothing`);
    expect(unknown.status).toBe(404);
  });

  it('stops every loop, leaving the group empty, without a fatal error', async () => {
    await loops!.stop();
    loops = undefined;
    expect(fatal).toBeUndefined();
    expect((await groupMembers(groupId)).partitions).toEqual([]);
  });
});

describe('loops that cannot start', () => {
  it('reject the start with the reason one loop would give', async () => {
    const missing = uniqueName('loops-missing');
    const config = serviceTestConfig(brokers, {
      input: missing,
      output: uniqueName('loops-out'),
      groupId: uniqueName('loops-group'),
    });
    const start = startLoops(config, capturingLogger('warn').logger, {
      count: 2,
      version: 'test',
      onFatal: () => undefined,
    });
    await expect(start).rejects.toThrow(StreamscoreError);
    await expect(start).rejects.toMatchObject({ code: 'TOPIC_MISSING' });
  });
});
