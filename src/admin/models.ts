/**
 * The model routes: what every deployment serves, and the decisions an operator takes on it. A decision
 * is published to the control topic, so it reaches every instance; the answer comes once this instance
 * has applied it. A decision that cannot be taken answers 409 with its code.
 */
import {
  type Challenger,
  type DecisionOutcome,
  type Deployments,
  parseChallenger,
  promote,
  rollback,
  setChallengers,
  withdraw,
} from '../deployments/index.js';
import { StreamscoreError } from '../errors/index.js';
import type { ExperimentsSummary } from '../experiments/index.js';
import type { DriftReport, GroundTruthReport } from '../monitoring/index.js';
import type { AdminRoute } from './server.js';

/** Ground-truth figures of one model version and variant (a GroundTruthReport with its model). */
export type ModelGroundTruth = GroundTruthReport & { model: string; version: string };

export interface MonitoringSummary {
  drift: readonly DriftReport[];
  groundTruth: readonly ModelGroundTruth[];
}

export interface ModelAdminOptions {
  /** Written as decided_by: `admin-api@<host>`. */
  decidedBy: string;
  /** The running comparison figures, shown with the deployments. */
  experiments(): ExperimentsSummary;
  /** The last drift window and the ground-truth figures of each model version, shown with its deployment. */
  monitoring(): MonitoringSummary;
  /** Rejects (TOPIC_MISSING) when comparisons could not be published: checked before adding challengers. */
  requireComparisonTopic(): Promise<void>;
}

function decisionAnswer(outcome: DecisionOutcome, before: string, after: string) {
  const { state } = outcome;
  return {
    status: 200,
    body: {
      deployment: state.deployment,
      revision: state.revision,
      action: state.action,
      from: before,
      champion: after,
      policy: `${state.champion.model}@${state.champion.version}`,
      challengers: state.challengers,
      refused: state.refused,
      inForce: outcome.inForce,
      ...(outcome.overrode === undefined ? {} : { overrode: outcome.overrode }),
    },
  };
}

function challengersOf(body: unknown): Challenger[] {
  const specs = (body as { challengers?: unknown } | undefined)?.challengers;
  const parsed = Array.isArray(specs)
    ? specs.map((spec) => (typeof spec === 'string' ? parseChallenger(spec) : undefined))
    : [undefined];
  if (parsed.some((challenger) => challenger === undefined)) {
    throw new StreamscoreError(
      'DECISION_REFUSED',
      'expected {"challengers": ["<variant>:<shadow|canary>:<model>@<version>:<share>", ...]}',
    );
  }
  return parsed as Challenger[];
}

export function modelRoutes(deployments: readonly Deployments[], options: ModelAdminOptions): AdminRoute[] {
  const byName = new Map(deployments.map((entry) => [entry.controller.state.deployment, entry]));
  const unknown = (name: string) => ({ status: 404, body: { error: `no deployment named ${name}` } });
  // The instance that took the decision, and who asked it to.
  const decision = (reason: string, caller: string) => ({ by: `${options.decidedBy} for ${caller}`, reason });
  const view = (entry: Deployments) => {
    const status = entry.controller.status();
    const pairs = options
      .experiments()
      .pairs.filter((pair) => status.challengers.some((c) => c.variant === pair.challenger.variant));
    const { drift, groundTruth } = options.monitoring();
    const served = (model: string) =>
      model === entry.controller.state.champion.model ||
      status.challengers.some((challenger) => challenger.model === model);
    return {
      ...status,
      experiments: pairs,
      drift: drift.filter((report) => served(report.modelName)),
      groundTruth: groundTruth.filter((figures) => served(figures.model)),
    };
  };
  const decide = async (name: string, make: Parameters<Deployments['decide']>[0]) => {
    const entry = byName.get(name);
    if (!entry) return unknown(name);
    const before = entry.controller.plan().champion;
    const outcome = await entry.decide(make);
    return decisionAnswer(outcome, before, entry.controller.plan().champion);
  };
  return [
    { method: 'GET', path: '/v1/models', handle: () => ({ status: 200, body: deployments.map(view) }) },
    {
      method: 'GET',
      path: '/v1/models/:name',
      handle: ({ name }) => {
        const entry = byName.get(name!);
        return entry ? { status: 200, body: view(entry) } : unknown(name!);
      },
    },
    {
      method: 'POST',
      path: '/v1/models/:name/rollback',
      handle: ({ name }, _body, caller) =>
        decide(name!, (current, serving) =>
          rollback(current, serving, decision('rollback through the admin API', caller)),
        ),
    },
    {
      method: 'POST',
      path: '/v1/models/:name/promote/:variant',
      handle: ({ name, variant }, _body, caller) =>
        decide(name!, (current, serving) =>
          promote(current, serving, variant!, decision(`promote ${variant} through the admin API`, caller)),
        ),
    },
    {
      method: 'POST',
      path: '/v1/models/:name/challengers/:variant/withdraw',
      handle: ({ name, variant }, _body, caller) =>
        decide(name!, (current) =>
          withdraw(current, variant!, decision(`withdraw ${variant} through the admin API`, caller)),
        ),
    },
    {
      method: 'PUT',
      path: '/v1/models/:name/challengers',
      handle: async ({ name }, body, caller) => {
        const challengers = challengersOf(body);
        if (challengers.length > 0) await options.requireComparisonTopic();
        return decide(name!, (current) =>
          setChallengers(current, challengers, decision('challengers set through the admin API', caller)),
        );
      },
    },
  ];
}
