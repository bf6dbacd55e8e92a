/**
 * Hot reload: polls the model repository and deploys the version the policy selects when it changes.
 * A version that fails verification (checksum, signature, warm-up) is refused with one log line and not
 * tried again until its manifest changes; the serving version keeps serving throughout.
 */
import type { Config } from '../config/index.js';
import { ConfigurationError, StreamscoreError } from '../errors/index.js';
import type { ModelEngine } from '../inference/index.js';
import { listVersions, readModelArtifact, selectVersion } from '../models/index.js';
import type { Logger } from '../telemetry/index.js';

export interface ModelUpdates {
  /** One look at the repository; deploys what changed. Resolves after the deploy (or refusal). */
  check(): Promise<void>;
  stop(): void;
}

/** Deploys the version the policy selects now; throws when there is none or it is refused. */
export async function deployInitialVersion(engine: ModelEngine, model: Config['model']): Promise<void> {
  const selected = selectVersion(await listVersions(model.repository, model.name), model.version);
  if (!selected) {
    throw new ConfigurationError(
      'MODEL_MANIFEST_INVALID',
      `no version ${model.version} of model ${model.name} in ${model.repository}`,
    );
  }
  await engine.deploy(await readModelArtifact(selected.directory));
}

export function watchModelRepository(
  engine: ModelEngine,
  model: Config['model'],
  logger: Logger,
): ModelUpdates {
  const failed = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const check = async () => {
    const versions = await listVersions(model.repository, model.name);
    const selected = selectVersion(versions, model.version, (version) => engine.isRefused(version));
    const serving = engine.status().serving?.version;
    if (!selected || selected.version === serving) return;
    if (failed.get(selected.version) === selected.manifestChangedAt) return;
    try {
      await engine.deploy(await readModelArtifact(selected.directory));
      failed.delete(selected.version);
      logger.info({ model: model.name, from: serving, to: selected.version }, 'model version deployed');
    } catch (error) {
      failed.set(selected.version, selected.manifestChangedAt);
      const code = error instanceof StreamscoreError ? error.code : 'MODEL_MANIFEST_INVALID';
      logger.error(
        {
          model: model.name,
          version: selected.version,
          serving,
          code,
          reason: error instanceof Error ? error.message : String(error),
        },
        'model version refused; the serving version keeps serving',
      );
    }
  };

  const schedule = () => {
    if (stopped || model.pollIntervalMs === 0) return;
    timer = setTimeout(() => {
      check()
        .catch((error: unknown) => logger.warn({ err: error }, 'model repository check failed'))
        .finally(schedule);
    }, model.pollIntervalMs);
    timer.unref();
  };
  schedule();

  return {
    check,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
