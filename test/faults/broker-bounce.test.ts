/**
 * The broker goes away mid-stream and comes back: the service must ride it out in the same process (no
 * restart by anyone), lose nothing, and resume on its own. The broker is stopped with a controlled shutdown
 * through scripts/kafka/kafka.sh and kept down longer than kafkajs's default retry budget (about 9 s over
 * 5 retries), so the service has to survive its Kafka clients giving up, not just a blip.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { testKafka } from '../support/kafka.js';
import {
  errorLogs,
  killStartedServices,
  type ServiceProcess,
  startBroker,
  startServiceProcess,
  stopBroker,
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
  startSteadyProducer,
  waitForAllCommitted,
  watchPredictions,
} from './harness.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers, 'streamscore-faults');

const EVENTS = 30_000;
const RATE_PER_SECOND = 1_500;
const STOP_AT_PROGRESS = 0.3;
const BROKER_DOWN_MS = 12_000;
const MAX_BYTES_PER_PARTITION = 1_048_576;

describe('broker stopped and restarted mid-stream', () => {
  let figures: Figures;
  let service: ServiceProcess;
  let stillRunning: boolean;
  let allCommitted: boolean;
  let batchBound: number;
  let outage: { stoppedAt: number; backAt: number };
  let crashes: string[];
  let errorsLogged: string[];
  let connectionWarnings: number;

  beforeAll(async () => {
    const topics = await createFaultTopics(kafka, 'bounce');
    const stream = sampleTransactions({ seed: 9092 });
    const events = Array.from({ length: EVENTS }, () => stream.next().value as CardTransaction);

    let producer: SteadyProducer | undefined;
    let watcher: PredictionWatcher | undefined;
    try {
      watcher = await watchPredictions(kafka, topics.output);
      service = startServiceProcess('bounce', instanceEnvironment(brokers, topics, 'bounce'));
      await service.waitForLog('scoring', 60_000);
      producer = startSteadyProducer(kafka, topics.input, eventMessages(events), RATE_PER_SECOND);

      await watcher.waitForDistinct(Math.floor(EVENTS * STOP_AT_PROGRESS), 120_000);
      // The test's own producer holds back while the broker is away, so the input is exactly the events.
      producer.pause();
      const stoppedAt = Date.now();
      try {
        await stopBroker(brokers);
        await sleep(BROKER_DOWN_MS);
      } finally {
        await startBroker(brokers);
      }
      const backAt = Date.now();
      outage = { stoppedAt, backAt };
      producer.resume();
      const faults: Fault[] = [{ name: 'broker bounce', at: stoppedAt, recoverableFrom: backAt }];

      await producer.done;
      await watcher.waitForDistinct(EVENTS, 180_000);
      allCommitted = await waitForAllCommitted(kafka, topics.groupId, topics.input, 60_000);
      stillRunning = service.running();
      crashes = service.logs
        .filter((line) => String(line.msg).startsWith('consumer crashed'))
        .map((line) => JSON.stringify(line).slice(0, 300));
      await service.terminate(30_000);
      errorsLogged = errorLogs(service).map((line) => JSON.stringify(line).slice(0, 300));
      connectionWarnings = service.logs.filter(
        (line) =>
          line.level === 40 &&
          line.component === 'kafkajs' &&
          /^(Connection error|Failed to connect)/.test(String(line.msg)),
      ).length;

      const [input, output, committedOutput, deadLetters] = await Promise.all([
        readToEnd(kafka, topics.input, { readCommitted: true }),
        readToEnd(kafka, topics.output, { readCommitted: false }),
        readToEnd(kafka, topics.output, { readCommitted: true }),
        readToEnd(kafka, topics.deadLetter, { readCommitted: true }),
      ]);
      batchBound = largestBatch(input, MAX_BYTES_PER_PARTITION);
      figures = measure({ input, output, committedOutput, deadLetters }, faults);
      printFigures('broker stop + start', figures, {
        'broker down': `${((backAt - stoppedAt) / 1000).toFixed(1)} s`,
        'consumer crashes logged (restarted by kafkajs)': crashes.length,
        'kafkajs connection warnings': connectionWarnings,
        'error lines': errorsLogged.length,
        'duplicates by partition': figures.duplicatesByPartition.join('/'),
      });
    } finally {
      await producer?.stop();
      await watcher?.stop();
      await killStartedServices();
    }
  });

  afterAll(killStartedServices);

  it('keeps the same process running through the outage', () => {
    expect(outage.backAt - outage.stoppedAt).toBeGreaterThanOrEqual(BROKER_DOWN_MS);
    expect(stillRunning, `service exited: ${service.stderr().slice(-1_000)}`).toBe(true);
  });

  it('loses nothing and commits every input offset', () => {
    expect(figures.lostExamples).toEqual([]);
    expect(figures.lost).toBe(0);
    expect(allCommitted).toBe(true);
  });

  it('resumes predicting on its own once the broker is back', () => {
    expect(figures.recoveryMs[0]).toBeLessThan(60_000);
  });

  // What an outage can re-deliver is what was published but not committed when the broker went: one
  // batch per partition, as for a kill.
  it('duplicates at most one batch per partition, and keeps each key in order', () => {
    expect(figures.duplicatesByPartition).toHaveLength(PARTITIONS);
    for (const duplicates of figures.duplicatesByPartition)
      expect(duplicates).toBeLessThanOrEqual(batchBound);
    expect(figures.orderViolations).toBe(0);
  });

  // kafkajs logs at ERROR every connection it loses and every attempt it retries; it recovers from all of
  // them here, so streamscore logs them at WARN and keeps ERROR for what an operator has to act on.
  it('logs the lost connections at WARN and nothing at ERROR', () => {
    expect(connectionWarnings).toBeGreaterThan(0);
    expect(errorsLogged).toEqual([]);
  });
});
