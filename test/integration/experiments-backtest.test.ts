/**
 * `streamscore experiments backtest` against what a live shadow showed. The service scores a stream with
 * fraud-gbm and fraud-forest as a shadow of every event; then the backtest, a separate process, scores the
 * same input range with the same two versions off the serving path. Its comparison figures must equal the
 * ones `experiments report` reads back from the live comparisons, the records it skips must be the ones the
 * service dead-lettered (by code), and its confusion counts must equal the ones worked out here from the
 * live predictions and comparisons against the labels published for them.
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { BacktestReport } from '../../src/cli/commands/backtest.js';
import type { ExperimentsReport } from '../../src/cli/commands/experiments.js';
import { createAvroCodec, loadAvroSchema } from '../../src/codec/index.js';
import type { Figures } from '../../src/experiments/index.js';
import { type GroundTruthLabel, LABEL_SCHEMA_PATH } from '../../src/monitoring/index.js';
import { type Comparison, loadComparisonCodec, type Prediction } from '../../src/routing/index.js';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { seededRandom } from '../../src/sample/random.js';
import { startService } from '../../src/service/index.js';
import { eventCodec, predictionCodec } from '../support/codecs.js';
import {
  connectedProducer,
  createTopics,
  eventually,
  publishEvents,
  readRecords,
  recordsIn,
  testKafka,
  uniqueName,
} from '../support/kafka.js';
import { capturingLogger } from '../support/logs.js';
import { runStreamscore } from '../support/processes.js';
import { serviceTestConfig } from '../support/service.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers);
const labelCodec = createAvroCodec<GroundTruthLabel>(loadAvroSchema(LABEL_SCHEMA_PATH));
const comparisonCodec = loadComparisonCodec();
const EVENTS = 3_000;

/** Without the challenger's latency: live it is the worker's, offline the backtest's own batches. */
function comparable({ challengerLatencyMs: _, ...figures }: Figures) {
  return figures;
}

interface Confusion {
  true_positives: number;
  false_positives: number;
  true_negatives: number;
  false_negatives: number;
}

function confusion(decisions: ReadonlyMap<string, boolean>, labels: ReadonlyMap<string, string>): Confusion {
  const counts = { true_positives: 0, false_positives: 0, true_negatives: 0, false_negatives: 0 };
  for (const [eventId, positive] of decisions) {
    const label = labels.get(eventId);
    if (label === undefined) continue;
    if (label === 'fraud') counts[positive ? 'true_positives' : 'false_negatives'] += 1;
    else counts[positive ? 'false_positives' : 'true_negatives'] += 1;
  }
  return counts;
}

describe('a backtest of a candidate against the version it would replace', () => {
  const input = uniqueName('backtest-transactions');
  const output = uniqueName('backtest-predictions');
  const comparisons = `${output}.comparisons`;
  const deadLetters = `${input}.DLT`;
  const labelsTopic = uniqueName('backtest-labels');
  const stream = sampleTransactions({ seed: 515 });
  const events = Array.from({ length: EVENTS }, () => stream.next().value as CardTransaction);
  const valid = eventCodec.encode(events[0]!);
  const badValues = [
    Buffer.alloc(0),
    valid.subarray(0, valid.length - 3),
    Buffer.concat([valid, Buffer.from([0])]),
  ];
  const env = {
    ...process.env,
    STREAMSCORE_KAFKA_BROKERS: brokers.join(','),
    STREAMSCORE_INPUT_TOPIC: input,
    STREAMSCORE_LOG_LEVEL: 'warn',
  };
  let predictions: Prediction[] = [];
  let shadowComparisons: Comparison[] = [];
  const labels = new Map<string, string>();

  beforeAll(async () => {
    await createTopics(kafka, [input, output, deadLetters, comparisons, labelsTopic], 3);
    const service = await startService(
      serviceTestConfig(
        brokers,
        { input, output, groupId: uniqueName('backtest-group') },
        {
          model: { name: 'fraud-gbm', version: '1', pollIntervalMs: 0 },
          // Every event shadowed, and never too late or shed, so the live comparisons cover them all.
          experiments: {
            challengers: ['forest:shadow:fraud-forest@1:1'],
            shadowDeadlineMs: 30_000,
            shedQueuedRows: 1_000_000,
          },
        },
      ),
      capturingLogger('warn').logger,
    );
    try {
      await publishEvents(kafka, input, events);
      const producer = await connectedProducer(kafka);
      await producer.send({
        topic: input,
        messages: badValues.map((value) => ({ key: 'bad', value })),
        acks: -1,
      });
      await producer.disconnect();
      expect(await eventually(async () => (await recordsIn(kafka, comparisons)) === EVENTS, 90_000)).toBe(
        true,
      );
    } finally {
      await service.stop();
    }
    predictions = (await readRecords(kafka, output, EVENTS, 60_000)).map(({ message }) =>
      predictionCodec.decode(message.value),
    );
    shadowComparisons = (await readRecords(kafka, comparisons, EVENTS, 60_000)).map(({ message }) =>
      comparisonCodec.decode(message.value),
    );

    // A label for two events in three, fraud more often the higher the live score, so every cell fills;
    // and one record that is not a label.
    const random = seededRandom(9);
    const labelled = predictions.filter((_, index) => index % 3 !== 0);
    for (const prediction of labelled) {
      labels.set(prediction.event_id, random.chance(0.05 + prediction.score) ? 'fraud' : 'legit');
    }
    const producer = await connectedProducer(kafka);
    await producer.send({
      topic: labelsTopic,
      messages: [
        ...[...labels].map(([eventId, label]) => ({
          key: eventId,
          value: labelCodec.encode({ event_id: eventId, label, label_time: Date.now(), source: 'analyst' }),
        })),
        { key: 'not-a-label', value: Buffer.from([0xff]) },
      ],
      acks: -1,
    });
    await producer.disconnect();
  }, 180_000);

  it('shows what the live shadow showed, skips what the service dead-lettered, and judges both by the labels', async () => {
    const backtest = JSON.parse(
      (
        await runStreamscore(
          [
            'experiments',
            'backtest',
            'fraud-forest@1',
            '--against',
            'fraud-gbm@1',
            '--labels-topic',
            labelsTopic,
            '--json',
          ],
          env,
        )
      ).stdout,
    ) as BacktestReport;
    const report = JSON.parse(
      (await runStreamscore(['experiments', 'report', '--topic', comparisons, '--json'], env)).stdout,
    ) as ExperimentsReport;

    expect(backtest.events).toBe(EVENTS + badValues.length);
    expect(backtest.scored).toBe(EVENTS);
    const deadLetterCodes = (await readRecords(kafka, deadLetters, badValues.length, 30_000)).map(
      ({ message }) => message.headers?.['streamscore-error-code']?.toString(),
    );
    expect(backtest.skipped.flatMap(({ code, count }) => Array<string>(count).fill(code)).sort()).toEqual(
      deadLetterCodes.sort(),
    );

    expect(report.pairs).toHaveLength(1);
    expect(backtest.comparison).not.toBeNull();
    expect(comparable(backtest.comparison!)).toEqual(comparable(report.pairs[0]!.total));

    const baselineDecisions = new Map(predictions.map((p) => [p.event_id, p.label === 'fraud']));
    const candidateDecisions = new Map(
      shadowComparisons.map(({ event_id, challenger }) => [
        event_id,
        challenger.score! >= challenger.threshold,
      ]),
    );
    const positives = (decisions: Map<string, boolean>) => [...decisions.values()].filter(Boolean).length;
    expect([backtest.baseline.positives, backtest.candidate.positives]).toEqual([
      positives(baselineDecisions),
      positives(candidateDecisions),
    ]);
    // The models must disagree somewhere, or the candidate's counts would prove nothing of their own.
    expect(positives(baselineDecisions)).not.toBe(positives(candidateDecisions));

    expect([backtest.labels, backtest.undecodableLabels]).toEqual([labels.size, 1]);
    for (const [outcome, decisions] of [
      [backtest.baseline, baselineDecisions],
      [backtest.candidate, candidateDecisions],
    ] as const) {
      const expected = confusion(decisions, labels);
      expect(Object.values(expected).every((count) => count > 0)).toBe(true);
      expect(outcome.groundTruth).toMatchObject({ labelled: labels.size, ...expected });
    }
  });

  it('refuses a version the repository does not have, naming it', async () => {
    const failure = await runStreamscore(['experiments', 'backtest', 'fraud-forest@9'], env).then(
      () => undefined,
      (error: { stderr: string; code: number }) => error,
    );
    expect(failure?.code).not.toBe(0);
    expect(failure?.stderr).toContain('fraud-forest@9: no such version');
  });
});
