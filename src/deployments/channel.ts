/**
 * The deployment state on the control topic: read to its end before the service serves, followed after,
 * each state handed to the controller in topic order (the last in force), and decisions published there
 * by whoever takes them (the admin API, an automatic rollback). A decision is answered once this instance
 * has applied it, so a caller of the admin API sees the state it caused, and is told when another
 * decision landed in between and overrode it or was overridden.
 */
import { type AvroCodec, createAvroCodec, loadAvroSchema } from '../codec/index.js';
import { packagePath } from '../config/index.js';
import type { ModelPool } from '../inference/index.js';
import { type ControlTopic, type KafkaSettings, openControlTopic } from '../kafka/index.js';
import type { Logger } from '../telemetry/index.js';
import {
  type ControllerOptions,
  type DeploymentController,
  startDeploymentController,
} from './controller.js';
import type { ResolvedDeployment } from './decisions.js';
import type { DeploymentState } from './state.js';

export interface DecisionOutcome {
  /** The state in force once the decision was applied here. */
  state: DeploymentState;
  /** False when another decision landed after it: the one in force is not this one. */
  inForce: boolean;
  /** Revision of a decision published between the one this was based on and this one, if any. */
  overrode: number | undefined;
}

export interface Deployments {
  readonly controller: DeploymentController;
  /** Takes a decision on the state in force and publishes it; throws DECISION_REFUSED when it cannot be taken. */
  decide(
    make: (current: DeploymentState, serving: ResolvedDeployment) => DeploymentState,
  ): Promise<DecisionOutcome>;
  close(): Promise<void>;
}

export interface DeploymentsOptions extends ControllerOptions {
  kafka: KafkaSettings;
  topic: string;
  /** The state the configuration gives, in force until the topic holds one for this deployment. */
  configured: DeploymentState;
}

export function deploymentCodec(): AvroCodec<DeploymentState> {
  return createAvroCodec<DeploymentState>(loadAvroSchema(packagePath('schemas/deployment.avsc')));
}

export async function openDeployments(
  pool: ModelPool,
  options: DeploymentsOptions,
  logger: Logger,
): Promise<Deployments> {
  const codec = deploymentCodec();
  const topic: ControlTopic = openControlTopic(options.kafka, logger, options.topic);
  const { deployment } = options.configured;
  let controller: DeploymentController | undefined;
  // States read before the controller exists: only the last one matters.
  let latest: DeploymentState | undefined;
  let appliedThrough = -1n;
  let applying: Promise<void> = Promise.resolve();
  const waiting = new Set<{ offset: bigint; wake: () => void }>();
  // Every state seen, to tell a caller of decide() what landed around its decision. Decisions are rare.
  const seen: { offset: bigint; revision: number }[] = [];

  const settle = (offset: bigint) => {
    appliedThrough = offset;
    for (const waiter of waiting) if (waiter.offset <= offset) waiter.wake();
  };

  try {
    await topic.follow(({ key, value, offset }) => {
      if (key !== deployment) return;
      let state: DeploymentState;
      try {
        state = codec.decode(value);
      } catch (error) {
        logger.warn(
          { offset: String(offset), err: error },
          'unreadable deployment state on the control topic; skipped',
        );
        return;
      }
      seen.push({ offset, revision: state.revision });
      if (!controller) {
        latest = state;
        appliedThrough = offset;
        return;
      }
      const running = controller;
      applying = applying.then(() => running.apply(state)).then(() => settle(offset));
    });
    const initial = latest ?? options.configured;
    controller = await startDeploymentController(pool, initial, options, logger);
    // A state that arrived while the first one was loading is still to be applied.
    const arrived = latest;
    if (arrived && arrived !== initial) await controller.apply(arrived);
  } catch (error) {
    await topic.close();
    throw error;
  }
  const running = controller;

  const applied = (offset: bigint) =>
    appliedThrough >= offset
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const waiter = {
            offset,
            wake: () => {
              waiting.delete(waiter);
              resolve();
            },
          };
          waiting.add(waiter);
        });

  return {
    controller: running,
    async decide(make) {
      const readThrough = appliedThrough;
      const next = make(running.state, await running.resolve());
      const offset = await topic.publish(deployment, codec.encode(next));
      await applied(offset);
      return {
        state: running.state,
        inForce: !seen.some((entry) => entry.offset > offset),
        overrode: seen.find((entry) => entry.offset > readThrough && entry.offset < offset)?.revision,
      };
    },
    async close() {
      running.stop();
      await topic.close();
    },
  };
}
