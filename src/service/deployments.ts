/**
 * The deployment side of a process: the control topic (created when missing), the state it holds or the
 * configuration gives, the running comparison figures and their metrics, the canary rules, and the admin
 * routes that take decisions. What the pipeline reads of it is the controller's plan.
 */
import { hostname } from 'node:os';
import { type AdminRoute, modelRoutes } from '../admin/index.js';
import type { Config } from '../config/index.js';
import {
  configuredState,
  type Deployments,
  openDeployments,
  parseChallenger,
  rollbackLimits,
  watchCanaries,
} from '../deployments/index.js';
import { registerExperimentMetrics, watchExperiments } from '../experiments/index.js';
import type { ModelPool } from '../inference/index.js';
import { ensureControlTopic, requireTopics } from '../kafka/index.js';
import { readModelPublicKey } from '../models/index.js';
import type { Logger, Telemetry } from '../telemetry/index.js';
import type { ServiceMonitoring } from './monitoring.js';

/** What the admin API shows of monitoring beside each deployment. */
export type MonitoringView = Pick<ServiceMonitoring, 'drift' | 'groundTruth'>;

export interface ServiceDeployments {
  readonly deployments: Deployments;
  readonly routes: AdminRoute[];
  close(): Promise<void>;
}

/** Reads the control topic to its end and loads what the state in force names. */
export async function startDeployments(
  config: Config,
  pool: ModelPool,
  telemetry: Telemetry,
  logger: Logger,
  monitoring?: MonitoringView,
): Promise<ServiceDeployments> {
  const { model, experiments: settings } = config;
  // Read once: a key that cannot be used stops the start before anything is loaded.
  const publicKey = model.publicKeyFile ? await readModelPublicKey(model.publicKeyFile) : undefined;
  if (publicKey) {
    logger.info(
      { publicKeyFile: model.publicKeyFile },
      'model versions must carry a manifest signature by the configured key',
    );
  } else {
    logger.info('model versions are not signature-checked (model.publicKeyFile is not set)');
  }
  if (await ensureControlTopic(config.kafka, logger, config.deployments.topic)) {
    logger.info({ topic: config.deployments.topic }, 'created the deployments control topic');
  }
  const deployments = await openDeployments(
    pool,
    {
      kafka: config.kafka,
      topic: config.deployments.topic,
      configured: configuredState(
        model.name,
        { model: model.name, version: model.version },
        settings.challengers.flatMap((spec) => parseChallenger(spec) ?? []),
      ),
      repository: model.repository,
      pollIntervalMs: model.pollIntervalMs,
      publicKey,
    },
    logger,
  );
  const requireComparisonTopic = () => requireTopics(config.kafka, logger, [settings.comparisonTopic]);
  const experiments = watchExperiments({ windowMs: settings.windowMs });
  const experimentMetrics = registerExperimentMetrics(telemetry.meter, experiments.figures);
  const canaries = watchCanaries(
    deployments,
    rollbackLimits(settings),
    `auto-rollback@${hostname()}`,
    logger,
  );
  const close = async () => {
    canaries.close();
    experimentMetrics();
    experiments.close();
    await deployments.close();
  };
  try {
    // Comparisons need their topic; a decision adding challengers later is checked by the admin API.
    if (deployments.controller.state.challengers.length > 0) await requireComparisonTopic();
  } catch (error) {
    await close();
    throw error;
  }
  return {
    deployments,
    routes: modelRoutes([deployments], {
      decidedBy: `admin-api@${hostname()}`,
      experiments: () => experiments.figures.summary(Date.now()),
      monitoring: () => ({
        drift: monitoring?.drift() ?? [],
        groundTruth: (monitoring?.groundTruth() ?? []).map((tally) => ({
          model: tally.modelName,
          version: tally.modelVersion,
          ...tally.report(),
        })),
      }),
      requireComparisonTopic,
    }),
    close,
  };
}
