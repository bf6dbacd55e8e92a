/**
 * The input group's assignment on the real broker (whose group.initial.rebalance.delay.ms is 0, so a
 * lone first join completes at once): a process's loops take partitions only once all of them are in the
 * group, a whole process keeps working meanwhile, and a member offering only kafkajs's RoundRobinAssigner
 * (an older streamscore) still joins, the group falling back to that protocol.
 */
import type { Consumer } from 'kafkajs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  inputGroupAssigners,
  type ProcessMembership,
  WHOLE_PROCESS_ASSIGNER,
} from '../../src/kafka/index.js';
import { createTopics, eventually, testKafka, uniqueName, withAdmin } from '../support/kafka.js';
import { capturingLogger } from '../support/logs.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers);
const PARTITIONS = 3;
const JOIN_WAIT_MS = 60_000;

interface Member {
  consumer: Consumer;
  /** Partitions of the topic from this member's latest join; undefined before its first. */
  latest: number[] | undefined;
  protocol: string | undefined;
}

const started: Consumer[] = [];
afterAll(() => Promise.all(started.map((consumer) => consumer.disconnect())));

async function join(
  topic: string,
  groupId: string,
  process: ProcessMembership | undefined,
  logger = capturingLogger().logger,
): Promise<Member> {
  const consumer = kafka.consumer({
    groupId,
    allowAutoTopicCreation: false,
    sessionTimeout: 10_000,
    heartbeatInterval: 300,
    maxWaitTimeInMs: 100,
    ...(process ? { partitionAssigners: inputGroupAssigners(process, logger) } : {}),
  });
  started.push(consumer);
  const member: Member = { consumer, latest: undefined, protocol: undefined };
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    member.latest = payload.memberAssignment[topic] ?? [];
    member.protocol = payload.groupProtocol;
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic] });
  await consumer.run({ eachBatch: async () => undefined });
  return member;
}

const sorted = (partitions: number[] | undefined) => [...(partitions ?? [])].sort();

async function groupProtocol(groupId: string): Promise<string | undefined> {
  const [group] = (await withAdmin(kafka, (admin) => admin.describeGroups([groupId]))).groups;
  return group?.protocol;
}

describe('a process joins the input group whole', () => {
  it('holds a process back until its loops have joined, while a whole process takes every partition', async () => {
    const topic = uniqueName('whole-process');
    const groupId = uniqueName('whole-process-group');
    await createTopics(kafka, [topic], PARTITIONS);
    const leaderLogs = capturingLogger();

    const firstLoop = await join(topic, groupId, { id: 'process-p', loops: 2 }, leaderLogs.logger);
    expect(await eventually(() => firstLoop.latest !== undefined, JOIN_WAIT_MS)).toBe(true);
    expect(firstLoop.latest).toEqual([]);
    expect(firstLoop.protocol).toBe(WHOLE_PROCESS_ASSIGNER);
    expect(leaderLogs.lines.some((line) => line.msg?.toString().startsWith('partitions held back'))).toBe(
      true,
    );

    const other = await join(topic, groupId, { id: 'process-q', loops: 1 });
    expect(await eventually(() => sorted(other.latest).length === PARTITIONS, JOIN_WAIT_MS)).toBe(true);
    expect(sorted(other.latest)).toEqual([0, 1, 2]);
    expect(firstLoop.latest).toEqual([]);

    const secondLoop = await join(topic, groupId, { id: 'process-p', loops: 2 });
    const shared = () =>
      [firstLoop, secondLoop, other].every((member) => member.latest?.length === 1) &&
      new Set([firstLoop, secondLoop, other].flatMap((member) => member.latest ?? [])).size === PARTITIONS;
    expect(await eventually(shared, JOIN_WAIT_MS)).toBe(true);
    expect(await groupProtocol(groupId)).toBe(WHOLE_PROCESS_ASSIGNER);
  });

  it('falls back to round-robin when a member offers only kafkajs’s assigner', async () => {
    const topic = uniqueName('whole-process-mixed');
    const groupId = uniqueName('whole-process-mixed-group');
    await createTopics(kafka, [topic], PARTITIONS);

    const older = await join(topic, groupId, undefined);
    const newer = await join(topic, groupId, { id: 'process-r', loops: 1 });
    const split = () =>
      (older.latest?.length ?? 0) > 0 &&
      (newer.latest?.length ?? 0) > 0 &&
      sorted([...(older.latest ?? []), ...(newer.latest ?? [])]).join() === '0,1,2';
    expect(await eventually(split, JOIN_WAIT_MS)).toBe(true);
    expect(newer.protocol).toBe('RoundRobinAssigner');
    expect(await groupProtocol(groupId)).toBe('RoundRobinAssigner');
  });
});
