/**
 * `streamscore models`: what a deployment serves, and the decisions an operator takes on it. Decisions go
 * through one instance's admin API, which publishes them to the control topic; every instance of the group
 * applies them, and so does every instance started later.
 */
import type { Command } from 'commander';
import type { Config } from '../../config/index.js';
import type { Challenger, DeploymentStatus } from '../../deployments/index.js';
import type { PairSummary } from '../../experiments/index.js';
import { createRuntime, type GlobalOptions } from '../runtime.js';

interface AdminFlags {
  adminUrl?: string;
}

interface DecisionAnswer {
  deployment: string;
  revision: number;
  action: string;
  from: string;
  champion: string;
  challengers: Challenger[];
  refused: string[];
  inForce: boolean;
  overrode?: number;
}

function adminUrl(config: Config, flags: AdminFlags): string {
  if (flags.adminUrl) return flags.adminUrl.replace(/\/$/, '');
  const host = config.admin.host === '0.0.0.0' ? '127.0.0.1' : config.admin.host;
  return `http://${host}:${config.admin.port}`;
}

async function call<T>(url: string, method: 'GET' | 'POST' | 'PUT', body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
  } catch (error) {
    throw new Error(`no streamscore admin server answers at ${url} (is the service running? --admin-url)`, {
      cause: error,
    });
  }
  const answer = (await response.json()) as T & { error?: string };
  if (!response.ok) throw new Error(answer.error ?? `${method} ${url}: HTTP ${response.status}`);
  return answer;
}

const describeChallenger = (challenger: Challenger & { id?: string }) =>
  `${challenger.variant} (${challenger.mode} ${challenger.model}@${challenger.version}, ${challenger.share * 100}% of keys)`;

type ListedDeployment = DeploymentStatus & { experiments: PairSummary[] };

const percent = (rate: number | null) => (rate === null ? 'n/a' : `${(rate * 100).toFixed(2)}%`);

/** One line per challenger: how it compares with the champion since the instance started. */
function describePair({ challenger, total }: PairSummary): string {
  const { ok, timeout, error, shed } = total.challengerStatus;
  return (
    `  ${challenger.variant} (${challenger.model}@${challenger.version}) vs champion: ${total.compared} events, ` +
    `agreement ${percent(total.agreementRate)}, flips +${total.flips.challengerOnlyPositive}/-${total.flips.championOnlyPositive}, ` +
    `PSI ${total.psi === null ? 'n/a' : total.psi.toFixed(4)}, ok ${ok} timeout ${timeout} error ${error} shed ${shed}`
  );
}

export function describeStatus(status: ListedDeployment): string {
  const { state } = status;
  const parts = [
    `${state.deployment}: serving ${status.champion}`,
    ...(status.standby ? [`standby ${status.standby}`] : []),
    ...(status.challengers.length
      ? [`challengers ${status.challengers.map(describeChallenger).join(', ')}`]
      : []),
    ...(state.refused.length ? [`refused ${state.refused.join(', ')}`] : []),
    ...(status.unavailable.length
      ? [`unavailable ${status.unavailable.map(({ id }) => id).join(', ')}`]
      : []),
  ];
  const decided =
    state.revision === 0
      ? 'revision 0 (the configuration)'
      : `revision ${state.revision}: ${state.action} by ${state.decided_by} at ${new Date(state.decided_at).toISOString()}`;
  return [`${parts.join('; ')}; ${decided}`, ...status.experiments.map(describePair)].join('\n');
}

function describeDecision(answer: DecisionAnswer): string {
  const lines = [
    `${answer.deployment}: ${answer.action}, revision ${answer.revision}: serving ${answer.champion} (was ${answer.from})`,
  ];
  if (answer.overrode !== undefined)
    lines.push(
      `note: revision ${answer.overrode} was decided meanwhile by someone else; this decision replaced it`,
    );
  if (!answer.inForce)
    lines.push('note: a later decision has already replaced this one (streamscore models list)');
  return lines.join('\n');
}

export function registerModels(program: Command): void {
  const models = program
    .command('models')
    .description('Inspect and decide what a deployment serves (decisions reach every instance).');
  const withAdmin = (command: Command) =>
    command.option(
      '--admin-url <url>',
      'admin server of an instance (default: from admin.host and admin.port)',
    );
  const decide = async (command: Command, path: string, method: 'POST' | 'PUT' = 'POST', body?: unknown) => {
    const { config } = createRuntime(command.optsWithGlobals<GlobalOptions>());
    const flags = command.opts<AdminFlags>();
    const answer = await call<DecisionAnswer>(`${adminUrl(config, flags)}/v1/models/${path}`, method, body);
    process.stdout.write(`${describeDecision(answer)}\n`);
  };

  withAdmin(
    models.command('list').description('Show what each deployment serves, and the decision in force.'),
  ).action(async (_flags: AdminFlags, command: Command) => {
    const { config } = createRuntime(command.optsWithGlobals<GlobalOptions>());
    const statuses = await call<ListedDeployment[]>(
      `${adminUrl(config, command.opts<AdminFlags>())}/v1/models`,
      'GET',
    );
    for (const status of statuses) process.stdout.write(`${describeStatus(status)}\n`);
  });
  withAdmin(
    models
      .command('rollback')
      .description('Serve the standby again and refuse the champion; with --variant, withdraw a challenger.')
      .argument('<deployment>')
      .option('--variant <variant>', 'withdraw this challenger (a canary or a shadow) instead'),
  ).action(async (deployment: string, flags: { variant?: string }, command: Command) => {
    const name = encodeURIComponent(deployment);
    await decide(
      command,
      flags.variant
        ? `${name}/challengers/${encodeURIComponent(flags.variant)}/withdraw`
        : `${name}/rollback`,
    );
  });
  withAdmin(
    models
      .command('promote')
      .description('Make a challenger the champion; the champion it replaces becomes the standby.')
      .argument('<deployment>')
      .argument('<variant>'),
  ).action(async (deployment: string, variant: string, _flags: unknown, command: Command) => {
    await decide(command, `${encodeURIComponent(deployment)}/promote/${encodeURIComponent(variant)}`);
  });
  withAdmin(
    models
      .command('challengers')
      .description(
        'Set the challengers, each <variant>:<shadow|canary>:<model>@<version>:<share>; none ends them.',
      )
      .argument('<deployment>')
      .argument('[challengers...]'),
  ).action(async (deployment: string, challengers: string[], _flags: unknown, command: Command) => {
    await decide(command, `${encodeURIComponent(deployment)}/challengers`, 'PUT', { challengers });
  });
}
