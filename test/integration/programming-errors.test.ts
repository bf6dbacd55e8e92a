/**
 * A mistake in the code (a TypeError, a RangeError) is not an infrastructure failure: retrying it would
 * repeat it forever with the partition stuck. It stops the process instead (onFatal: the CLI exits 1 and
 * the orchestrator restarts it), with an ERROR line, and with its offsets where they were, so the restarted
 * process scores the batch again. The mistake is planted in the tracer the service is handed, which the
 * batch handler calls for every batch.
 */
import type { Tracer } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { type RunningService, startService } from '../../src/service/index.js';
import { disabledTelemetry } from '../../src/telemetry/index.js';
import {
  committedVersusEnd,
  createTopics,
  eventually,
  publishEvents,
  readRecords,
  testKafka,
  uniqueName,
} from '../support/kafka.js';
import { capturingLogger } from '../support/logs.js';
import { serviceTestConfig } from '../support/service.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers);

describe('a programming error in the batch path', () => {
  const input = uniqueName('bug-transactions');
  const output = uniqueName('bug-predictions');
  const groupId = uniqueName('bug-group');
  const { logger, lines } = capturingLogger('warn');
  const fatal: Error[] = [];
  const stream = sampleTransactions({ seed: 404 });
  const events = Array.from({ length: 300 }, () => stream.next().value as CardTransaction);
  let service: RunningService;

  beforeAll(async () => {
    await createTopics(kafka, [input, output, `${input}.DLT`], 3);
    const telemetry = disabledTelemetry();
    const brokenTracer = {
      ...telemetry.tracer,
      startSpan: () => {
        throw new TypeError("Cannot read properties of undefined (reading 'spanContext')");
      },
    } as Tracer;
    service = await startService(serviceTestConfig(brokers, { input, output, groupId }), logger, {
      telemetry: { ...telemetry, tracer: brokenTracer },
      onFatal: (error) => fatal.push(error),
    });
    await publishEvents(kafka, input, events);
    await eventually(() => fatal.length > 0, 30_000);
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('stops the process through onFatal with the error itself', () => {
    expect(fatal.length).toBeGreaterThan(0);
    expect(fatal[0]).toBeInstanceOf(TypeError);
  });

  it('says so in an ERROR line', () => {
    const line = lines.find((entry) => entry.level === 50 && String(entry.msg).includes('programming error'));
    expect(line).toBeDefined();
    expect((line?.err as { type?: string } | undefined)?.type).toBe('TypeError');
  });

  it('moves no offset and publishes nothing, so a restart scores the batch again', async () => {
    for (const { committed } of await committedVersusEnd(kafka, groupId, input)) expect(committed).toBe('-1');
    expect(await readRecords(kafka, output, 1, 3_000)).toEqual([]);
  });
});
