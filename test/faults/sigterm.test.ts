/**
 * SIGTERM mid-stream, as an orchestrator stops a pod: the service must finish or give back what it holds,
 * exit 0 within its shutdown deadline, and a restarted instance must carry on where it stopped, with
 * nothing lost and nothing predicted twice.
 *
 * The signal lands while a backlog is being worked through, so batches are in flight when it arrives: a
 * stop between an idle fetch and the next is not the case worth testing.
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
  committedOffsets,
  createFaultTopics,
  eventMessages,
  type Fault,
  type Figures,
  instanceEnvironment,
  measure,
  type PredictionWatcher,
  printFigures,
  publishedPastCommitted,
  readToEnd,
  type SteadyProducer,
  startSteadyProducer,
  waitForAllCommitted,
  watchPredictions,
} from './harness.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers, 'streamscore-faults');

const EVENTS = 30_000;
/** Published before the service starts, so the first instance is busy when the signal comes. */
const BACKLOG = 20_000;
const RATE_PER_SECOND = 1_500;
const TERMINATE_AT_PROGRESS = 0.3;
const SHUTDOWN_TIMEOUT_MS = 20_000;

// The whole fault suite runs with the default input.loops (auto: one loop per core); this scenario also
// runs with one loop, the shape every earlier release had and a one-core pod still has.
describe.each(['auto', '1'])('SIGTERM mid-stream, then a restart (input.loops %s)', (loops) => {
  let figures: Figures;
  let stop: ProcessExit & { elapsedMs: number };
  let predictedBeforeStop: number;
  let allCommitted: boolean;
  let errorsLogged: string[];
  let uncommittedAtStop: number[];

  beforeAll(async () => {
    const topics = await createFaultTopics(kafka, 'term');
    const stream = sampleTransactions({ seed: 777 });
    const events = Array.from({ length: EVENTS }, () => stream.next().value as CardTransaction);
    const messages = eventMessages(events);
    const start = (incarnation: number) =>
      startServiceProcess(
        `sigterm run ${incarnation}`,
        instanceEnvironment(brokers, topics, `run-${incarnation}`, {
          STREAMSCORE_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
          STREAMSCORE_INPUT_LOOPS: loops,
        }),
      );

    let producer: SteadyProducer | undefined;
    let watcher: PredictionWatcher | undefined;
    try {
      producer = startSteadyProducer(kafka, topics.input, messages.slice(0, BACKLOG), 10 * RATE_PER_SECOND);
      await producer.done;
      watcher = await watchPredictions(kafka, topics.output);
      const first = start(1);
      await first.waitForLog('scoring', 60_000);
      producer = startSteadyProducer(kafka, topics.input, messages.slice(BACKLOG), RATE_PER_SECOND);

      await watcher.waitForDistinct(Math.floor(EVENTS * TERMINATE_AT_PROGRESS), 120_000);
      predictedBeforeStop = watcher.distinct();
      const at = Date.now();
      // Twice the deadline: a process still alive then is reported as never exiting (elapsed Infinity).
      stop = await first.terminate(2 * SHUTDOWN_TIMEOUT_MS);
      const committedAtStop = await committedOffsets(kafka, topics.groupId, topics.input);
      const faults: Fault[] = [{ name: 'SIGTERM', at, recoverableFrom: at, recoveredBy: 'run-2' }];

      const second = start(2);
      await producer.done;
      await watcher.waitForDistinct(EVENTS, 120_000);
      allCommitted = await waitForAllCommitted(kafka, topics.groupId, topics.input, 60_000);
      await second.terminate(2 * SHUTDOWN_TIMEOUT_MS);
      errorsLogged = [...errorLogs(first), ...errorLogs(second)].map((line) =>
        JSON.stringify(line).slice(0, 300),
      );

      const [input, output, committedOutput, deadLetters] = await Promise.all([
        readToEnd(kafka, topics.input, { readCommitted: true }),
        readToEnd(kafka, topics.output, { readCommitted: false }),
        readToEnd(kafka, topics.output, { readCommitted: true }),
        readToEnd(kafka, topics.deadLetter, { readCommitted: true }),
      ]);
      figures = measure({ input, output, committedOutput, deadLetters }, faults);
      uncommittedAtStop = publishedPastCommitted(input, output, 'run-1', committedAtStop);
      printFigures('SIGTERM mid-stream + restart', figures, {
        'published by the stopped instance but not committed': uncommittedAtStop.join('/'),
        'exit code': String(stop.code),
        'exit after SIGTERM': `${(stop.elapsedMs / 1000).toFixed(1)} s`,
        'predicted at SIGTERM': predictedBeforeStop,
      });
    } finally {
      await producer?.stop();
      await watcher?.stop();
      await killStartedServices();
    }
  });

  afterAll(killStartedServices);

  it('signalled the service while events were still flowing', () => {
    expect(predictedBeforeStop).toBeLessThan(EVENTS);
  });

  it('exits with code 0 within the shutdown deadline', () => {
    expect(stop.signal).toBeNull();
    expect(stop.code).toBe(0);
    expect(stop.elapsedMs).toBeLessThanOrEqual(SHUTDOWN_TIMEOUT_MS);
  });

  it('loses nothing and commits every input offset', () => {
    expect(figures.lostExamples).toEqual([]);
    expect(figures.lost).toBe(0);
    expect(allCommitted).toBe(true);
  });

  it('commits, before it exits, the offsets of everything it published', () => {
    expect(uncommittedAtStop).toEqual([0, 0, 0]);
  });

  // A clean stop commits what it published, so the restarted instance starts exactly where it stopped.
  it('predicts no event twice across the restart', () => {
    expect(figures.duplicatesByPartition).toEqual([0, 0, 0]);
    expect(figures.orderViolations).toBe(0);
  });

  it('logs no error on the way', () => {
    expect(errorsLogged).toEqual([]);
  });
});

/**
 * SIGTERM before the service has even joined: the orchestrator scales down a pod that is still starting.
 * A member that died without leaving holds the group's rebalance open until its session expires, so the
 * new instance waits in its JoinGroup for that long; the signal lands there. It must exit 0 promptly,
 * not die by the signal's default action.
 */
describe('SIGTERM while the service is still joining its group', () => {
  const DEAD_MEMBER_SESSION_MS = 30_000;
  let stop: ProcessExit & { elapsedMs: number };
  let joinedBeforeSignal: boolean;
  let scoringLogged: boolean;
  let errorsLogged: string[];

  beforeAll(async () => {
    const topics = await createFaultTopics(kafka, 'term-joining');
    try {
      const dead = startServiceProcess(
        'dead member',
        instanceEnvironment(brokers, topics, 'dead', {
          STREAMSCORE_INPUT_SESSION_TIMEOUT_MS: String(DEAD_MEMBER_SESSION_MS),
        }),
      );
      await dead.waitForLog('scoring', 60_000);
      await dead.kill();
      const starting = startServiceProcess(
        'starting',
        instanceEnvironment(brokers, topics, 'starting', {
          STREAMSCORE_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
        }),
      );
      // The model is loaded and the admin server up: what is left is the join, which the dead member holds.
      await starting.waitForLog('model loaded', 60_000);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      joinedBeforeSignal = starting.logs.some((line) => line.msg === 'joined consumer group');
      stop = await starting.terminate(2 * SHUTDOWN_TIMEOUT_MS);
      scoringLogged = starting.logs.some((line) => line.msg === 'scoring');
      errorsLogged = errorLogs(starting).map((line) => JSON.stringify(line).slice(0, 300));
      console.log(
        `[faults] SIGTERM while joining: exit code ${stop.code}, signal ${stop.signal}, exit after SIGTERM ${(stop.elapsedMs / 1000).toFixed(1)} s`,
      );
    } finally {
      await killStartedServices();
    }
  });

  afterAll(killStartedServices);

  it('signalled the instance before it had joined', () => {
    expect(joinedBeforeSignal).toBe(false);
    expect(scoringLogged).toBe(false);
  });

  it('exits with code 0 within the shutdown deadline, not by the signal', () => {
    expect(stop.signal).toBeNull();
    expect(stop.code).toBe(0);
    expect(stop.elapsedMs).toBeLessThanOrEqual(SHUTDOWN_TIMEOUT_MS);
  });

  it('logs no error on the way', () => {
    expect(errorsLogged).toEqual([]);
  });
});
