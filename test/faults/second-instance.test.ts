/**
 * Scale out and back in mid-stream: a second instance joins the consumer group, takes some partitions,
 * and later leaves (SIGTERM), handing them back. Nothing may be lost, and no instance may commit a partition
 * it has given up: that is checked from both sides, the predictions each instance sent (each instance
 * writes its own variant) against the assignments it logged, and the group's commit log in
 * __consumer_offsets, where a stale commit shows as a committed offset moving backwards.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { testKafka } from '../support/kafka.js';
import {
  errorLogs,
  killStartedServices,
  type ProcessExit,
  startServiceProcess,
} from '../support/processes.js';
import {
  type Assignment,
  assignments,
  createFaultTopics,
  describeAssignments,
  eventMessages,
  type Fault,
  type Figures,
  instanceEnvironment,
  measure,
  type OffsetCommit,
  type OwnershipViolation,
  offsetRegressions,
  type PredictionWatcher,
  printFigures,
  publishedOutsideAssignment,
  readOffsetCommits,
  readToEnd,
  type SteadyProducer,
  startSteadyProducer,
  waitForAllCommitted,
  watchPredictions,
} from './harness.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers, 'streamscore-faults');

const EVENTS = 30_000;
/**
 * The input arrives in three bursts, and each membership change is made halfway through working off a
 * burst, so a rebalance always finds batches in flight: the case where a commit can outlive ownership.
 */
const BURSTS = [12_000, 12_000, 6_000];
const JOIN_AFTER = 6_000;
const LEAVE_AFTER = 18_000;
const BURST_RATE_PER_SECOND = 20_000;

describe('a second instance joins and later leaves the group mid-stream', () => {
  let figures: Figures;
  let timelines: Map<string, Assignment[]>;
  let violations: OwnershipViolation[];
  let regressions: OffsetCommit[];
  let commits: OffsetCommit[];
  let leave: ProcessExit & { elapsedMs: number };
  let allCommitted: boolean;
  let firstStillRunning: boolean;
  let errorsLogged: string[];

  beforeAll(async () => {
    const topics = await createFaultTopics(kafka, 'scale');
    const stream = sampleTransactions({ seed: 5150 });
    const events = Array.from({ length: EVENTS }, () => stream.next().value as CardTransaction);
    const start = (instance: string) =>
      startServiceProcess(`instance ${instance}`, instanceEnvironment(brokers, topics, instance));

    let producer: SteadyProducer | undefined;
    let watcher: PredictionWatcher | undefined;
    try {
      const messages = eventMessages(events);
      const burst = async (index: number) => {
        const from = BURSTS.slice(0, index).reduce((sum, size) => sum + size, 0);
        producer = startSteadyProducer(
          kafka,
          topics.input,
          messages.slice(from, from + BURSTS[index]!),
          BURST_RATE_PER_SECOND,
        );
        await producer.done;
      };
      watcher = await watchPredictions(kafka, topics.output);
      const first = start('instance-a');
      await first.waitForLog('scoring', 60_000);
      await burst(0);

      await watcher.waitForDistinct(JOIN_AFTER, 120_000);
      const joinedAt = Date.now();
      const second = start('instance-b');
      await second.waitForLog(
        (line) =>
          line.msg === 'joined consumer group' &&
          ((line.assignment as Record<string, number[]> | undefined)?.[topics.input]?.length ?? 0) > 0,
        60_000,
      );
      await burst(1);

      await watcher.waitForDistinct(LEAVE_AFTER, 120_000);
      const leftAt = Date.now();
      leave = await second.terminate(40_000);
      const faults: Fault[] = [
        { name: 'instance-b joins', at: joinedAt, recoverableFrom: joinedAt, recoveredBy: 'instance-b' },
        { name: 'instance-b leaves', at: leftAt, recoverableFrom: leftAt, recoveredBy: 'instance-a' },
      ];

      await burst(2);
      await watcher.waitForDistinct(EVENTS, 120_000);
      allCommitted = await waitForAllCommitted(kafka, topics.groupId, topics.input, 60_000);
      firstStillRunning = first.running();
      await first.terminate(40_000);
      errorsLogged = [...errorLogs(first), ...errorLogs(second)].map((line) =>
        JSON.stringify(line).slice(0, 300),
      );

      const [input, output, committedOutput, deadLetters] = await Promise.all([
        readToEnd(kafka, topics.input, { readCommitted: true }),
        readToEnd(kafka, topics.output, { readCommitted: false }),
        readToEnd(kafka, topics.output, { readCommitted: true }),
        readToEnd(kafka, topics.deadLetter, { readCommitted: true }),
      ]);
      timelines = new Map([
        ['instance-a', assignments(first.logs, topics.input)],
        ['instance-b', assignments(second.logs, topics.input)],
      ]);
      violations = publishedOutsideAssignment(input, output, timelines);
      commits = (await readOffsetCommits(kafka, topics.groupId)).filter(
        (commit) => commit.topic === topics.input,
      );
      regressions = offsetRegressions(commits);
      figures = measure({ input, output, committedOutput, deadLetters }, faults);
      printFigures('second instance joins and leaves', figures, {
        'assignments a': describeAssignments(timelines.get('instance-a')!),
        'assignments b': describeAssignments(timelines.get('instance-b')!),
        'predictions sent for partitions not held': violations.length,
        'commits seen': commits.length,
        'committed offsets moving backwards': regressions.length,
      });
    } finally {
      await producer?.stop();
      await watcher?.stop();
      await killStartedServices();
    }
  });

  afterAll(killStartedServices);

  it('hands partitions to the second instance and back to the first', () => {
    const [a, b] = [timelines.get('instance-a')!, timelines.get('instance-b')!];
    expect(b.some((assignment) => assignment.partitions.length > 0)).toBe(true);
    // The first instance gave some up when the second joined, and held all of them again at the end.
    expect(a.some((assignment) => assignment.partitions.length < 3)).toBe(true);
    expect(a.at(-1)?.partitions).toEqual([0, 1, 2]);
    expect(firstStillRunning).toBe(true);
  });

  it('loses nothing and commits every input offset', () => {
    expect(figures.lostExamples).toEqual([]);
    expect(figures.lost).toBe(0);
    expect(allCommitted).toBe(true);
  });

  it('lets the leaving instance exit cleanly', () => {
    expect(leave.code).toBe(0);
    expect(errorsLogged).toEqual([]);
  });

  it('never publishes, and so never commits, for a partition an instance no longer holds', () => {
    expect(violations.slice(0, 5)).toEqual([]);
  });

  it('never moves a committed offset backwards', () => {
    expect(commits.length).toBeGreaterThan(0);
    expect(regressions).toEqual([]);
  });

  it('keeps each key in input order', () => {
    expect(figures.orderViolations).toBe(0);
  });
});
