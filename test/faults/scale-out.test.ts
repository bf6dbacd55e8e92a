/**
 * Scaling out to three instances and back to one under a steady load, exactly-once, on six partitions:
 * what a lag-based autoscaler does to the group (KEDA adding pods as lag grows, removing them as it falls,
 * a node failing under one). Instance b and then c join while events keep arriving; b leaves gracefully
 * (SIGTERM, as a scale-in does) and c is killed (SIGKILL, as a lost node). Downstream, read_committed,
 * every event must have exactly one prediction, in per-key order, and no committed offset may move
 * backwards. The at-least-once join/leave case is test/faults/second-instance.test.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { testKafka } from '../support/kafka.js';
import {
  errorLogs,
  killStartedServices,
  type ProcessExit,
  type ServiceProcess,
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
  heldAfter,
  instanceEnvironment,
  measure,
  type OffsetCommit,
  offsetRegressions,
  type PredictionWatcher,
  printFigures,
  readOffsetCommits,
  readToEnd,
  type SteadyProducer,
  startSteadyProducer,
  waitForAllCommitted,
  watchPredictions,
} from './harness.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers, 'streamscore-faults');

const PARTITIONS = 6;
/**
 * Enough for 120 s at the rate (a slow machine's run took more than 60: two instances starting took 16 and
 * 18 s each to hold partitions). The producer is stopped a few seconds after the last membership change,
 * so every change lands while events keep arriving however slowly instances start, and a fast machine
 * sends no more than it needs.
 */
const MAX_EVENTS = 120_000;
const RATE_PER_SECOND = 1_000;
/** Load the group works off between two membership changes, and after the last one. */
const SETTLE_MS = 4_000;
const SESSION_TIMEOUT_MS = 10_000;

const INSTANCES = ['instance-a', 'instance-b', 'instance-c'] as const;
type Instance = (typeof INSTANCES)[number];

function holdsPartitions(topic: string) {
  return (line: Readonly<Record<string, unknown>> & { msg?: string }) =>
    line.msg === 'joined consumer group' &&
    ((line.assignment as Record<string, number[]> | undefined)?.[topic]?.length ?? 0) > 0;
}

describe('three instances join and leave under load, exactly-once', () => {
  let figures: Figures;
  let timelines: Map<Instance, Assignment[]>;
  let commits: OffsetCommit[];
  let regressions: OffsetCommit[];
  let allCommitted: boolean;
  let exits: Map<Instance, ProcessExit>;
  let errorsLogged: string[];
  /** Records the producer had sent when each change was made, and in all. */
  let sentAtChanges: number[];
  let recordsSent: number;

  beforeAll(async () => {
    const topics = await createFaultTopics(kafka, 'scale-eos', PARTITIONS);
    const stream = sampleTransactions({ seed: 6161 });
    const events = Array.from({ length: MAX_EVENTS }, () => stream.next().value as CardTransaction);
    const start = (instance: Instance) =>
      startServiceProcess(
        instance,
        instanceEnvironment(brokers, topics, instance, {
          STREAMSCORE_OUTPUT_EXACTLY_ONCE: 'true',
          STREAMSCORE_INPUT_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
        }),
      );

    let producer: SteadyProducer | undefined;
    let watcher: PredictionWatcher | undefined;
    try {
      watcher = await watchPredictions(kafka, topics.output);
      const running = new Map<Instance, ServiceProcess>([['instance-a', start('instance-a')]]);
      await running.get('instance-a')!.waitForLog('scoring', 60_000);
      producer = startSteadyProducer(kafka, topics.input, eventMessages(events), RATE_PER_SECOND);

      const faults: Fault[] = [];
      sentAtChanges = [];
      const change = async (name: string, act: () => Promise<Instance | undefined>) => {
        await sleep(SETTLE_MS);
        const at = Date.now();
        sentAtChanges.push(producer!.sent());
        const recoveredBy = await act();
        faults.push({ name, at, recoverableFrom: at, ...(recoveredBy && { recoveredBy }) });
      };
      const join = (instance: Instance) =>
        change(`${instance} joins`, async () => {
          const process = start(instance);
          running.set(instance, process);
          await process.waitForLog(holdsPartitions(topics.input), 60_000);
          return instance;
        });
      exits = new Map();
      await join('instance-b');
      await join('instance-c');
      await change('instance-b leaves (SIGTERM)', async () => {
        exits.set('instance-b', await running.get('instance-b')!.terminate(40_000));
        return undefined;
      });
      let killedAt = 0;
      await change('instance-c killed (SIGKILL)', async () => {
        killedAt = Date.now();
        exits.set('instance-c', await running.get('instance-c')!.kill());
        return 'instance-a';
      });
      const survivor = running.get('instance-a')!;
      // The group notices the kill only when c's session times out; then a takes every partition back.
      await survivor.waitForLog(
        (line) =>
          line.msg === 'joined consumer group' &&
          Number(line.time) > killedAt &&
          heldAfter(survivor.logs, line, topics.input).length === PARTITIONS,
        SESSION_TIMEOUT_MS + 60_000,
      );
      await sleep(SETTLE_MS);
      await producer.stop();
      recordsSent = producer.sent();

      await watcher.waitForDistinct(recordsSent, 180_000);
      allCommitted = await waitForAllCommitted(kafka, topics.groupId, topics.input, 60_000);
      timelines = new Map(
        INSTANCES.map((instance) => [instance, assignments(running.get(instance)!.logs, topics.input)]),
      );
      exits.set('instance-a', await survivor.terminate(40_000));
      errorsLogged = INSTANCES.flatMap((instance) => errorLogs(running.get(instance)!)).map((line) =>
        JSON.stringify(line).slice(0, 300),
      );

      const [input, output, committedOutput, deadLetters] = await Promise.all([
        readToEnd(kafka, topics.input, { readCommitted: true }),
        readToEnd(kafka, topics.output, { readCommitted: false }),
        readToEnd(kafka, topics.output, { readCommitted: true }),
        readToEnd(kafka, topics.deadLetter, { readCommitted: true }),
      ]);
      commits = (await readOffsetCommits(kafka, topics.groupId)).filter(
        (commit) => commit.topic === topics.input,
      );
      regressions = offsetRegressions(commits);
      figures = measure({ input, output, committedOutput, deadLetters }, faults);
      printFigures('three instances join and leave, exactly-once', figures, {
        ...Object.fromEntries(
          INSTANCES.map((instance) => [
            `assignments ${instance}`,
            describeAssignments(timelines.get(instance)!),
          ]),
        ),
        'records sent when each change was made': sentAtChanges.join(', '),
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

  it('spreads the partitions over every instance that joins and gathers them back on the survivor', () => {
    for (const instance of INSTANCES) {
      expect(timelines.get(instance)!.some((assignment) => assignment.partitions.length > 0)).toBe(true);
    }
    // With three members each held two of the six partitions at some point.
    expect(timelines.get('instance-a')!.some((assignment) => assignment.partitions.length === 2)).toBe(true);
    expect(timelines.get('instance-a')!.at(-1)?.partitions).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('makes every change while events keep arriving', () => {
    expect(sentAtChanges).toHaveLength(4);
    for (const sent of sentAtChanges) expect(sent).toBeLessThan(recordsSent);
    expect(recordsSent).toBeLessThan(MAX_EVENTS);
  });

  it('loses nothing and commits every input offset', () => {
    expect(figures.recordsIn).toBe(recordsSent);
    expect(figures.lostExamples).toEqual([]);
    expect(figures.lost).toBe(0);
    expect(allCommitted).toBe(true);
  });

  it('gives a read_committed consumer each prediction once, in per-key order', () => {
    expect(figures.readCommittedDuplicates).toBe(0);
    expect(figures.orderViolations).toBe(0);
  });

  it('never moves a committed offset backwards', () => {
    expect(commits.length).toBeGreaterThan(0);
    expect(regressions).toEqual([]);
  });

  it('lets the leaving and the last instance exit cleanly, and logs no error', () => {
    expect(exits.get('instance-b')?.code).toBe(0);
    expect(exits.get('instance-c')?.signal).toBe('SIGKILL');
    expect(exits.get('instance-a')?.code).toBe(0);
    expect(errorsLogged).toEqual([]);
  });
});
