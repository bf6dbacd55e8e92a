/**
 * What a Kubernetes readiness probe sees through a broker outage: /readyz turns 503 with a reason while the
 * broker is down, and 200 again once the service has rejoined, without a restart; /healthz (liveness)
 * stays 200 throughout, because restarting every pod would not bring a broker back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { type RunningService, startService } from '../../src/service/index.js';
import { predictionCodec } from '../support/codecs.js';
import { createTopics, publishEvents, readRecords, testKafka, uniqueName } from '../support/kafka.js';
import { capturingLogger } from '../support/logs.js';
import { startBroker, stopBroker } from '../support/processes.js';
import { serviceTestConfig } from '../support/service.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers, 'streamscore-readiness');

interface Probe {
  at: number;
  ready: number;
  live: number;
  reasons: string[];
}

describe('readiness through a broker outage', () => {
  const input = uniqueName('ready-transactions');
  const output = uniqueName('ready-predictions');
  const stream = sampleTransactions({ seed: 5150 });
  const batch = () => Array.from({ length: 500 }, () => stream.next().value as CardTransaction);
  const probes: Probe[] = [];
  let service: RunningService;
  let stoppedAt = 0;
  let backAt = 0;
  let readyBeforeOutage: Probe;
  /** Distinct events predicted, from before and after the outage. */
  let predictionsAfterOutage: number;
  let probing = true;
  let prober: Promise<void>;

  const probe = async (): Promise<Probe> => {
    const [ready, live] = await Promise.all([
      fetch(`${service.adminUrl}/readyz`),
      fetch(`${service.adminUrl}/healthz`),
    ]);
    const body = (await ready.json()) as { reasons: string[] };
    return { at: Date.now(), ready: ready.status, live: live.status, reasons: body.reasons };
  };

  const waitForReady = async (status: number, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (probes.at(-1)?.ready === status) return;
      await sleep(250);
    }
  };

  beforeAll(async () => {
    await createTopics(kafka, [input, output, `${input}.DLT`], 3);
    await publishEvents(kafka, input, batch());
    service = await startService(
      serviceTestConfig(brokers, { input, output, groupId: uniqueName('ready-group') }),
      capturingLogger('warn').logger,
    );
    await readRecords(kafka, output, 500, 60_000);
    prober = (async () => {
      while (probing) {
        probes.push(await probe());
        await sleep(250);
      }
    })();
    await waitForReady(200, 30_000);
    readyBeforeOutage = probes.at(-1)!;

    stoppedAt = Date.now();
    await stopBroker(brokers);
    await waitForReady(503, 90_000);
    // Stay down a while past the first 503, as a real outage would.
    await sleep(5_000);
    await startBroker(brokers);
    backAt = Date.now();
    await waitForReady(200, 120_000);

    await publishEvents(kafka, input, batch());
    const predictions = await readRecords(kafka, output, 1_000, 60_000);
    predictionsAfterOutage = new Set(
      predictions.map(({ message }) => predictionCodec.decode(message.value).event_id),
    ).size;
    probing = false;
    await prober;
    const firstNotReady = probes.find((entry) => entry.at > stoppedAt && entry.ready === 503);
    const readyAgain = probes.find((entry) => entry.at > backAt && entry.ready === 200);
    console.log(
      `[faults] readiness: 503 ${firstNotReady ? ((firstNotReady.at - stoppedAt) / 1000).toFixed(1) : 'never'} s after the broker stopped, ` +
        `200 ${readyAgain ? ((readyAgain.at - backAt) / 1000).toFixed(1) : 'never'} s after it was back, probes ${probes.length}`,
    );
  });

  afterAll(async () => {
    probing = false;
    await prober;
    await service?.stop();
  });

  it('is ready while it is joined and consuming', () => {
    expect(readyBeforeOutage).toMatchObject({ ready: 200, live: 200, reasons: [] });
  });

  it('turns not ready while the broker is down, saying why', () => {
    const down = probes.filter((entry) => entry.at > stoppedAt && entry.at < backAt && entry.ready === 503);
    expect(down.length).toBeGreaterThan(0);
    expect(down.at(-1)!.reasons.join('; ')).toMatch(/consumer|delivery|joined/);
  });

  it('turns ready again once the broker is back, in the same process', () => {
    expect(probes.at(-1)).toMatchObject({ ready: 200, reasons: [] });
    expect(predictionsAfterOutage).toBe(1_000);
  });

  it('stays live throughout: liveness never looks at Kafka', () => {
    expect(probes.every((entry) => entry.live === 200)).toBe(true);
  });
});
