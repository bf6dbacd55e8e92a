/**
 * Exactly-once against the outcome-unknown transaction, made deterministic: the instance under test talks
 * to the broker through a Kafka-protocol proxy (test/support/kafka-proxy.ts) that lets the broker receive
 * and commit an EndTxn but withholds its response, then closes the connection. The instance can only
 * learn what happened from the group coordinator.
 *
 * - Zombie: two instances share the group; the moment one of them sends an EndTxn, it is frozen (SIGSTOP)
 *   until its session has expired and the other instance has taken all partitions; then its connection
 *   is dropped and it is resumed (SIGCONT). It must neither redo the committed transaction nor initialise
 *   a producer for a partition it no longer owns (which would fence the rightful owner), and it must
 *   rejoin the group rather than exit.
 * - Still the owner: one instance, three EndTxn responses lost while it keeps its partitions. Each time
 *   the transaction did commit, and redoing it would show a read_committed consumer the batch twice.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { testKafka } from '../support/kafka.js';
import { ApiKey, type KafkaProxy, startKafkaProxy } from '../support/kafka-proxy.js';
import {
  errorLogs,
  killStartedServices,
  type LogLine,
  type ServiceProcess,
  startServiceProcess,
} from '../support/processes.js';
import {
  type Assignment,
  assignments,
  createFaultTopics,
  eventMessages,
  type FaultTopics,
  type Figures,
  heldAfter,
  instanceEnvironment,
  measure,
  type OffsetCommit,
  offsetRegressions,
  PARTITIONS,
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

const EVENTS = 24_000;
const RATE_PER_SECOND = 1_200;
const SESSION_TIMEOUT_MS = 10_000;
/** Small batches: many transactions, so the one interrupted is one of many in flight. */
const MAX_BYTES_PER_PARTITION = 32_768;

interface Outcome {
  figures: Figures;
  regressions: OffsetCommit[];
  commits: number;
  allCommitted: boolean;
  errorsLogged: string[];
}

const eosSettings = (extra: Record<string, string> = {}) => ({
  STREAMSCORE_OUTPUT_EXACTLY_ONCE: 'true',
  STREAMSCORE_INPUT_MAX_BYTES_PER_PARTITION: String(MAX_BYTES_PER_PARTITION),
  STREAMSCORE_INPUT_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
  ...extra,
});

/** Reads every topic and the group's commit log back once the stream is done, and stops the instances. */
async function settle(
  topics: FaultTopics,
  watcher: PredictionWatcher,
  producer: SteadyProducer,
  instances: readonly ServiceProcess[],
  scenario: string,
  extra: Record<string, string | number>,
): Promise<Outcome & { exits: (number | null)[] }> {
  await producer.done;
  await watcher.waitForDistinct(EVENTS, 180_000);
  const allCommitted = await waitForAllCommitted(kafka, topics.groupId, topics.input, 60_000);
  const exits = [];
  for (const instance of instances) exits.push((await instance.terminate(40_000)).code);
  const [input, output, committedOutput, deadLetters] = await Promise.all([
    readToEnd(kafka, topics.input, { readCommitted: true }),
    readToEnd(kafka, topics.output, { readCommitted: false }),
    readToEnd(kafka, topics.output, { readCommitted: true }),
    readToEnd(kafka, topics.deadLetter, { readCommitted: true }),
  ]);
  const figures = measure({ input, output, committedOutput, deadLetters }, []);
  const commits = (await readOffsetCommits(kafka, topics.groupId)).filter(
    (commit) => commit.topic === topics.input,
  );
  const regressions = offsetRegressions(commits);
  printFigures(scenario, figures, {
    ...extra,
    'offset commits': commits.length,
    'committed offsets moving backwards': regressions.length,
  });
  const errorsLogged = instances.flatMap(errorLogs).map((line) => JSON.stringify(line).slice(0, 300));
  return { figures, regressions, commits: commits.length, allCommitted, errorsLogged, exits };
}

/** Topics, the events to publish and a proxy to the broker for the instance under test. */
async function prepare(scenario: string, seed: number) {
  const topics = await createFaultTopics(kafka, scenario);
  const stream = sampleTransactions({ seed });
  const events = Array.from({ length: EVENTS }, () => stream.next().value as CardTransaction);
  return { topics, messages: eventMessages(events), proxy: await startKafkaProxy(brokers[0]!) };
}

const retriedAfter = (logs: readonly LogLine[], since: number) =>
  logs.filter((line) => line.msg === 'infrastructure failure; retrying' && Number(line.time) >= since).length;

describe('exactly-once: an instance frozen with its EndTxn in flight, resumed after losing its partitions', () => {
  let outcome: Outcome & { exits: (number | null)[] };
  let zombieTimeline: Assignment[];
  let takeover: number[];
  let frozenAt: number;
  let takenOverAt: number;
  let resumedAt: number;
  let zombieAliveAfterResume: boolean;
  let retriesAfterResume: number;
  let proxy: KafkaProxy | undefined;

  beforeAll(async () => {
    const prepared = await prepare('zombie', 9_191);
    const { topics, messages } = prepared;
    proxy = prepared.proxy;
    let producer: SteadyProducer | undefined;
    let watcher: PredictionWatcher | undefined;
    try {
      watcher = await watchPredictions(kafka, topics.output);
      const zombie = startServiceProcess(
        'zombie',
        instanceEnvironment([proxy.broker], topics, 'zombie', eosSettings()),
      );
      await zombie.waitForLog('scoring', 60_000);
      const survivor = startServiceProcess(
        'survivor',
        instanceEnvironment(brokers, topics, 'survivor', eosSettings()),
      );
      await survivor.waitForLog('scoring', 60_000);
      // Both hold partitions once the zombie has joined the generation the survivor's arrival started.
      await zombie.waitForLog(
        (line) => line.msg === 'joined consumer group' && Number(line.time) > survivor.startedAt,
        60_000,
      );
      producer = startSteadyProducer(kafka, topics.input, messages, RATE_PER_SECOND);
      await watcher.waitForDistinct(Math.floor(EVENTS * 0.2), 120_000);

      const frozen = new Promise<void>((resolve) => {
        const unsubscribe = proxy!.onRequest(ApiKey.EndTxn, () => {
          unsubscribe();
          process.kill(zombie.pid, 'SIGSTOP');
          frozenAt = Date.now();
          resolve();
        });
      });
      const held = await proxy.holdNextResponse(ApiKey.EndTxn);
      await frozen;
      // The group expires the frozen member and hands every partition to the survivor.
      const everything = await survivor.waitForLog(
        (line) =>
          line.msg === 'joined consumer group' &&
          Number(line.time) > frozenAt &&
          heldAfter(survivor.logs, line, topics.input).length === PARTITIONS,
        60_000,
      );
      // Let the survivor initialise its producers for the taken-over partitions and move them on.
      const progressed = watcher.distinct();
      await watcher.waitForDistinct(progressed + 2_000, 60_000);
      held.drop();
      await sleep(200);
      resumedAt = Date.now();
      process.kill(zombie.pid, 'SIGCONT');
      await zombie.waitForLog(
        (line) => line.msg === 'joined consumer group' && Number(line.time) > resumedAt,
        60_000,
      );
      zombieAliveAfterResume = zombie.running();
      // Counted from the freeze: a frozen process logs nothing, and its first line after SIGCONT can carry
      // the very millisecond the test read as resumedAt, or one before it.
      retriesAfterResume = retriedAfter(zombie.logs, frozenAt);
      takeover = heldAfter(survivor.logs, everything, topics.input);
      takenOverAt = Number(everything.time);

      outcome = await settle(
        topics,
        watcher,
        producer,
        [zombie, survivor],
        'EOS zombie (frozen during EndTxn)',
        {
          'frozen for': `${((resumedAt - frozenAt) / 1000).toFixed(1)} s`,
          'zombie rejoined': String(zombieAliveAfterResume),
        },
      );
      zombieTimeline = assignments(zombie.logs, topics.input);
    } finally {
      await producer?.stop();
      await watcher?.stop();
      await killStartedServices();
    }
  });

  afterAll(async () => {
    await killStartedServices();
    await proxy?.close();
  });

  it('froze the instance past its session while the survivor took every partition over', () => {
    // The broker times the session from the zombie's last heartbeat, which may precede the freeze by up to
    // a heartbeat interval; what matters is that the takeover happened between freeze and resume.
    expect(takenOverAt).toBeGreaterThan(frozenAt);
    expect(resumedAt).toBeGreaterThan(takenOverAt);
    expect(takeover).toEqual([0, 1, 2]);
  });

  it('resumed the zombie into an unknown outcome, which it retried rather than crashed on', () => {
    expect(retriesAfterResume).toBeGreaterThan(0);
    expect(zombieAliveAfterResume).toBe(true);
  });

  it('rejoined the group instead of exiting, and both instances stop cleanly at the end', () => {
    expect(zombieTimeline.filter((assignment) => assignment.time > resumedAt).length).toBeGreaterThan(0);
    expect(outcome.exits).toEqual([0, 0]);
  });

  it('shows a read_committed consumer every event exactly once, in order', () => {
    expect(outcome.figures.lostExamples).toEqual([]);
    expect(outcome.figures.lost).toBe(0);
    expect(outcome.figures.readCommittedDuplicates).toBe(0);
    expect(outcome.figures.orderViolations).toBe(0);
    expect(outcome.allCommitted).toBe(true);
  });

  it('never moves a committed offset backwards', () => {
    expect(outcome.commits).toBeGreaterThan(0);
    expect(outcome.regressions).toEqual([]);
  });

  it('logs no error on the way', () => {
    expect(outcome.errorsLogged).toEqual([]);
  });
});

describe('exactly-once: EndTxn responses lost while the instance still owns its partitions', () => {
  const LOST_RESPONSES = 3;
  let outcome: Outcome & { exits: (number | null)[] };
  let retries: number;
  let proxy: KafkaProxy | undefined;

  beforeAll(async () => {
    const prepared = await prepare('lost-endtxn', 9_292);
    const { topics, messages } = prepared;
    proxy = prepared.proxy;
    let producer: SteadyProducer | undefined;
    let watcher: PredictionWatcher | undefined;
    try {
      watcher = await watchPredictions(kafka, topics.output);
      const instance = startServiceProcess(
        'owner',
        instanceEnvironment([proxy.broker], topics, 'owner', eosSettings()),
      );
      await instance.waitForLog('scoring', 60_000);
      producer = startSteadyProducer(kafka, topics.input, messages, RATE_PER_SECOND * 2);
      for (let lost = 1; lost <= LOST_RESPONSES; lost++) {
        await watcher.waitForDistinct(Math.floor((EVENTS * lost) / (LOST_RESPONSES + 2)), 120_000);
        (await proxy.holdNextResponse(ApiKey.EndTxn)).drop();
      }
      outcome = await settle(topics, watcher, producer, [instance], 'EOS owner, EndTxn responses lost', {
        'EndTxn responses lost': LOST_RESPONSES,
      });
      retries = retriedAfter(instance.logs, 0);
    } finally {
      await producer?.stop();
      await watcher?.stop();
      await killStartedServices();
    }
  });

  afterAll(async () => {
    await killStartedServices();
    await proxy?.close();
  });

  it('met each lost response with a retry', () => {
    expect(retries).toBeGreaterThanOrEqual(LOST_RESPONSES);
  });

  // Redoing a transaction that had committed would write its batch again: visible twice to a
  // read_committed consumer, and at least as a second (aborted) copy to a read_uncommitted one.
  it('recognises each as committed and publishes nothing twice, not even in an aborted transaction', () => {
    expect(outcome.figures.duplicates).toBe(0);
    expect(outcome.figures.lostExamples).toEqual([]);
    expect(outcome.figures.lost).toBe(0);
    expect(outcome.figures.readCommittedDuplicates).toBe(0);
    expect(outcome.figures.orderViolations).toBe(0);
    expect(outcome.allCommitted).toBe(true);
    expect(outcome.exits).toEqual([0]);
  });

  it('never moves a committed offset backwards, and logs no error', () => {
    expect(outcome.regressions).toEqual([]);
    expect(outcome.errorsLogged).toEqual([]);
  });
});
