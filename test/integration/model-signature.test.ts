/**
 * Model integrity on a real broker: with model.publicKeyFile set, a version tampered with after it was
 * signed (another model file, the manifest's sha256 updated to match it: what someone who can write to the
 * model volume but holds no key can do) is refused while the signed version keeps scoring, and a properly
 * signed version after it goes live.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Prediction } from '../../src/routing/index.js';
import { type CardTransaction, sampleTransactions } from '../../src/sample/index.js';
import { type RunningService, startService } from '../../src/service/index.js';
import { predictionCodec } from '../support/codecs.js';
import {
  createTopics,
  eventually,
  publishEvents,
  readRecords,
  testKafka,
  uniqueName,
} from '../support/kafka.js';
import { capturingLogger } from '../support/logs.js';
import { referenceScores } from '../support/reference.js';
import {
  MODEL_V1,
  MODEL_V2,
  publishFolder,
  publishVersion,
  signingKeys,
  stageSignedVersion,
  swapModelKeepingSignature,
  temporaryRepository,
} from '../support/repository.js';
import { serviceTestConfig } from '../support/service.js';

const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers);
const REFUSED = 'model version refused; the serving version keeps serving';

describe('signed model versions on a real broker', () => {
  const input = uniqueName('signed-transactions');
  const output = uniqueName('signed-predictions');
  const topics = { input, output, groupId: uniqueName('signed-group') };
  const stream = sampleTransactions({ seed: 2_718 });
  const take = (count: number) => Array.from({ length: count }, () => stream.next().value as CardTransaction);
  const [first, afterTampered, afterSigned] = [take(300), take(300), take(300)];
  const captured = capturingLogger('info');
  let keys: Awaited<ReturnType<typeof signingKeys>>;
  let repository: string;
  let service: RunningService | undefined;

  /** The predictions of `events`, once all of them (and everything published before) are on the output topic. */
  async function predictionsOf(events: readonly CardTransaction[], total: number): Promise<Prediction[]> {
    const records = await readRecords(kafka, output, total, 20_000);
    const wanted = new Set(events.map(({ event_id }) => event_id));
    return records
      .map(({ message }) => predictionCodec.decode(message.value))
      .filter(({ event_id }) => wanted.has(event_id));
  }

  async function worstDifference(
    predictions: readonly Prediction[],
    events: CardTransaction[],
    model: string,
  ) {
    const reference = await referenceScores(events, join(model, 'model.onnx'));
    return Math.max(...predictions.map(({ event_id, score }) => Math.abs(score - reference.get(event_id)!)));
  }

  beforeAll(async () => {
    keys = await signingKeys();
    repository = await temporaryRepository();
    await publishFolder(repository, await stageSignedVersion(MODEL_V1, '1', keys.privateKey), '1');
    await createTopics(kafka, [input, output, `${input}.DLT`], 3);
    service = await startService(
      serviceTestConfig(brokers, topics, {
        model: { repository, pollIntervalMs: 100, publicKeyFile: keys.publicKeyFile },
        log: { level: 'info' },
      }),
      captured.logger,
    );
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('serves the signed version 1, saying versions must be signed', async () => {
    expect(service!.deployments.controller.plan().champion).toBe('fraud-gbm@1');
    expect(captured.lines.map(({ msg }) => msg)).toContain(
      'model versions must carry a manifest signature by the configured key',
    );
    await publishEvents(kafka, input, first);
    const scored = await predictionsOf(first, first.length);
    expect(scored).toHaveLength(first.length);
    expect(scored.every(({ model_version }) => model_version === '1')).toBe(true);
  });

  it('refuses a version tampered with after signing, and version 1 scores the events after it', async () => {
    // Signed by the key holder with the version 1 model, then the model swapped by someone without the key.
    const tampered = await stageSignedVersion(MODEL_V1, '2', keys.privateKey);
    await swapModelKeepingSignature(tampered, join(MODEL_V2, 'model.onnx'));
    await publishFolder(repository, tampered, '2');

    const refusal = () => captured.lines.find((line) => line.msg === REFUSED && line.version === '2');
    expect(await eventually(() => refusal() !== undefined, 5_000)).toBe(true);
    expect(refusal()).toMatchObject({
      level: 50,
      model: 'fraud-gbm',
      role: 'champion',
      code: 'MANIFEST_SIGNATURE_INVALID',
      reason: expect.stringContaining('manifest.json does not match its signature manifest.json.sig'),
    });
    expect(service!.deployments.controller.status()).toMatchObject({
      champion: 'fraud-gbm@1',
      unavailable: [{ id: 'fraud-gbm@2' }],
    });

    await publishEvents(kafka, input, afterTampered);
    const scored = await predictionsOf(afterTampered, first.length + afterTampered.length);
    expect(scored).toHaveLength(afterTampered.length);
    expect(scored.every(({ model_version }) => model_version === '1')).toBe(true);
    expect(await worstDifference(scored, afterTampered, MODEL_V1)).toBeLessThanOrEqual(1e-5);
    // Refused once, not on every poll.
    expect(captured.lines.filter((line) => line.msg === REFUSED)).toHaveLength(1);
  });

  it('takes a properly signed version 3 and scores new events with it', async () => {
    await publishFolder(repository, await stageSignedVersion(MODEL_V2, '3', keys.privateKey), '3');
    expect(
      await eventually(() => service!.deployments.controller.plan().champion === 'fraud-gbm@3', 5_000),
    ).toBe(true);

    await publishEvents(kafka, input, afterSigned);
    const total = first.length + afterTampered.length + afterSigned.length;
    const scored = await predictionsOf(afterSigned, total);
    expect(scored).toHaveLength(afterSigned.length);
    expect(scored.every(({ model_version }) => model_version === '3')).toBe(true);
    expect(await worstDifference(scored, afterSigned, MODEL_V2)).toBeLessThanOrEqual(1e-5);
  });

  it('does not start with an unusable public key, or with no signed version to serve', async () => {
    const unsignedRepository = await temporaryRepository();
    await publishVersion(unsignedRepository, MODEL_V1, '1');
    const start = (model: { repository: string; publicKeyFile: string }) =>
      startService(
        serviceTestConfig(brokers, { ...topics, groupId: uniqueName('signed-refused') }, { model }),
        capturingLogger('warn').logger,
      );
    await expect(
      start({ repository, publicKeyFile: join(repository, 'no-such-key.pem') }),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('model.publicKeyFile'),
    });
    await expect(
      start({ repository: unsignedRepository, publicKeyFile: keys.publicKeyFile }),
    ).rejects.toMatchObject({ message: expect.stringContaining('manifest.json.sig is missing') });
  });
});
