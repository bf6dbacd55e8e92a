/**
 * SIGKILL mid-stream, three times over 50,000 events, restarting the service each time; then every topic is
 * read back and checked, as in Kafka's transactions system test (bounded input, a processor bounced hard
 * while it works, verification with a read_committed consumer).
 *
 * At-least-once: nothing lost, and what a kill re-delivers is bounded by what was published but not yet
 * committed, one batch per partition. Exactly-once: a read_committed consumer sees every event once.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fetchTopicEnds } from '../../src/kafka/index.js';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { testKafka, withAdmin } from '../support/kafka.js';
import {
  killStartedServices,
  type ProcessExit,
  type ServiceProcess,
  startServiceProcess,
} from '../support/processes.js';
import {
  createFaultTopics,
  eventMessages,
  type Fault,
  type Figures,
  instanceEnvironment,
  largestBatch,
  measure,
  PARTITIONS,
  type PredictionWatcher,
  printFigures,
  readToEnd,
  type SteadyProducer,
  type StoredRecord,
  startSteadyProducer,
  waitForAllCommitted,
  watchPredictions,
} from './harness.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers, 'streamscore-faults');

const EVENTS = 50_000;
const RATE_PER_SECOND = 1_500;
const KILL_AT_PROGRESS = [0.2, 0.45, 0.7];
/**
 * A smaller fetch than the 1 MiB default, so "one batch per partition" is a few hundred records and the
 * duplicate bound actually discriminates: with 1 MiB it would be over 6,000 per partition per kill, more
 * than a whole partition's share of what a kill can re-deliver here.
 */
const MAX_BYTES_PER_PARTITION = 65_536;

interface KillRun {
  figures: Figures;
  input: StoredRecord[];
  output: StoredRecord[];
  /** End offset of each output partition. */
  outputEnds: bigint[];
  kills: { exit: ProcessExit; predictedBefore: number; publishedBefore: number }[];
  allCommitted: boolean;
  batchBound: number;
}

async function runKillScenario(mode: 'at-least-once' | 'exactly-once'): Promise<KillRun> {
  const topics = await createFaultTopics(kafka, mode === 'exactly-once' ? 'kill-eos' : 'kill-alo');
  const stream = sampleTransactions({ seed: mode === 'exactly-once' ? 4242 : 2424 });
  const events = Array.from({ length: EVENTS }, () => stream.next().value as CardTransaction);
  const settings: Record<string, string> = {
    STREAMSCORE_INPUT_MAX_BYTES_PER_PARTITION: String(MAX_BYTES_PER_PARTITION),
    ...(mode === 'exactly-once' ? { STREAMSCORE_OUTPUT_EXACTLY_ONCE: 'true' } : {}),
  };
  const start = (incarnation: number): ServiceProcess =>
    startServiceProcess(
      `${mode} run ${incarnation}`,
      instanceEnvironment(brokers, topics, `run-${incarnation}`, settings),
    );

  let producer: SteadyProducer | undefined;
  let watcher: PredictionWatcher | undefined;
  try {
    watcher = await watchPredictions(kafka, topics.output);
    let service = start(1);
    await service.waitForLog('scoring', 60_000);
    producer = startSteadyProducer(kafka, topics.input, eventMessages(events), RATE_PER_SECOND);

    const faults: Fault[] = [];
    const kills: KillRun['kills'] = [];
    for (const [index, progress] of KILL_AT_PROGRESS.entries()) {
      await watcher.waitForDistinct(Math.floor(EVENTS * progress), 180_000);
      const predictedBefore = watcher.distinct();
      const publishedBefore = producer.sent();
      const at = Date.now();
      const exit = await service.kill();
      faults.push({ name: `kill ${index + 1}`, at, recoverableFrom: at, recoveredBy: `run-${index + 2}` });
      kills.push({ exit, predictedBefore, publishedBefore });
      service = start(index + 2);
    }
    await producer.done;
    await watcher.waitForDistinct(EVENTS, 180_000);
    const allCommitted = await waitForAllCommitted(kafka, topics.groupId, topics.input, 60_000);
    await service.terminate(30_000);

    const [input, output, committedOutput, deadLetters] = await Promise.all([
      readToEnd(kafka, topics.input, { readCommitted: true }),
      readToEnd(kafka, topics.output, { readCommitted: false }),
      readToEnd(kafka, topics.output, { readCommitted: true }),
      readToEnd(kafka, topics.deadLetter, { readCommitted: true }),
    ]);
    const outputEnds = (await withAdmin(kafka, (admin) => fetchTopicEnds(admin, topics.output)))
      .sort((a, b) => a.partition - b.partition)
      .map(({ high }) => BigInt(high));
    const figures = measure({ input, output, committedOutput, deadLetters }, faults);
    const batchBound = largestBatch(input, MAX_BYTES_PER_PARTITION);
    printFigures(`SIGKILL x${KILL_AT_PROGRESS.length}, ${mode}`, figures, {
      'duplicates by partition': figures.duplicatesByPartition.join('/'),
      'bound per partition': KILL_AT_PROGRESS.length * batchBound,
      'predicted at kills': kills.map((kill) => kill.predictedBefore).join('/'),
    });
    return { figures, input, output, outputEnds, kills, allCommitted, batchBound };
  } finally {
    await producer?.stop();
    await watcher?.stop();
    await killStartedServices();
  }
}

describe('SIGKILL mid-stream, at-least-once', () => {
  let run: KillRun;

  beforeAll(async () => {
    run = await runKillScenario('at-least-once');
  });

  afterAll(killStartedServices);

  it('killed the service three times while events were still flowing', () => {
    expect(run.kills).toHaveLength(KILL_AT_PROGRESS.length);
    for (const kill of run.kills) {
      expect(kill.exit.signal).toBe('SIGKILL');
      expect(kill.predictedBefore).toBeLessThan(EVENTS);
    }
  });

  it('loses nothing: every event published has a prediction, and every input offset is committed', () => {
    expect(run.figures.recordsIn).toBeGreaterThanOrEqual(EVENTS);
    expect(run.figures.lostExamples).toEqual([]);
    expect(run.figures.lost).toBe(0);
    expect(run.allCommitted).toBe(true);
  });

  // The service commits a batch's offsets only after its predictions are acknowledged, and a partition's
  // next batch starts only after that commit, so a kill can re-deliver at most the one batch per partition
  // whose predictions were out but whose commit was not: kills x the largest batch a fetch can return.
  it('duplicates at most one batch per partition per kill', () => {
    const bound = KILL_AT_PROGRESS.length * run.batchBound;
    expect(run.figures.duplicatesByPartition).toHaveLength(PARTITIONS);
    for (const duplicates of run.figures.duplicatesByPartition) expect(duplicates).toBeLessThanOrEqual(bound);
  });

  it('keeps each key in input order and dead-letters nothing', () => {
    expect(run.figures.orderViolations).toBe(0);
    expect(run.figures.deadLettered).toBe(0);
  });

  it('resumes predicting after each kill', () => {
    for (const recovery of run.figures.recoveryMs) expect(recovery).toBeLessThan(60_000);
  });
});

describe('SIGKILL mid-stream, exactly-once (STREAMSCORE_OUTPUT_EXACTLY_ONCE=true)', () => {
  let run: KillRun;

  beforeAll(async () => {
    run = await runKillScenario('exactly-once');
  });

  afterAll(killStartedServices);

  it('loses nothing', () => {
    expect(run.figures.lostExamples).toEqual([]);
    expect(run.figures.lost).toBe(0);
    expect(run.allCommitted).toBe(true);
  });

  it('shows a read_committed consumer every event exactly once', () => {
    expect(run.figures.readCommittedDuplicates).toBe(0);
    expect(run.figures.orderViolations).toBe(0);
  });

  // Transaction markers take offsets of their own: an output partition with more offsets than records
  // (aborted ones included) was written in transactions.
  it('writes the predictions in transactions', () => {
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const written = run.output.filter((record) => record.partition === partition).length;
      expect(written, `output partition ${partition} is empty`).toBeGreaterThan(0);
      expect(
        run.outputEnds[partition],
        `output partition ${partition} holds no transaction markers`,
      ).toBeGreaterThan(BigInt(written));
    }
  });

  it('resumes predicting after each kill', () => {
    for (const recovery of run.figures.recoveryMs) expect(recovery).toBeLessThan(60_000);
  });
});
