/**
 * `streamscore models`: what a deployment serves, and the decisions an operator takes on it. Decisions go
 * through one instance's admin API, which publishes them to the control topic; every instance of the group
 * applies them, and so does every instance started later. `sign` and `keygen` work on files only: a
 * version's manifest signature, checked by instances that have model.publicKeyFile.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { ModelGroundTruth } from '../../admin/index.js';
import type { Config } from '../../config/index.js';
import type { Challenger, DeploymentStatus } from '../../deployments/index.js';
import type { PairSummary } from '../../experiments/index.js';
import { generateSigningKeyPair, readSigningKey, signVersion } from '../../models/index.js';
import type { DriftReport } from '../../monitoring/index.js';
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
  const scheme = config.admin.tlsCertFile ? 'https' : 'http';
  return `${scheme}://${host}:${config.admin.port}`;
}

/**
 * One admin request, with the bearer token of the configuration when it holds one. An HTTPS admin server
 * whose certificate no system CA signed needs NODE_EXTRA_CA_CERTS, as any Node client does.
 */
async function call<T>(
  config: Config,
  url: string,
  method: 'GET' | 'POST' | 'PUT',
  body?: unknown,
): Promise<T> {
  let response: Response;
  const headers: Record<string, string> = {
    ...(config.admin.token ? { authorization: `Bearer ${config.admin.token}` } : {}),
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
  };
  try {
    response = await fetch(url, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
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

type ListedDeployment = DeploymentStatus & {
  experiments: PairSummary[];
  drift: DriftReport[];
  groundTruth: ModelGroundTruth[];
};

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

const hours = (ms: number | null) => (ms === null ? 'n/a' : `${(ms / 3_600_000).toFixed(1)} h`);

/** One line per model version and variant whose predictions met their labels. */
function describeGroundTruth(figures: ModelGroundTruth): string {
  return (
    `  ground truth ${figures.model}@${figures.version} ${figures.variant}: ${figures.labelled} labelled, ` +
    `precision ${percent(figures.precision)}, recall ${percent(figures.recall)}, ` +
    `false positive rate ${percent(figures.false_positive_rate)}, positive rate ${percent(figures.positive_rate)}, ` +
    `label delay p50 ${hours(figures.label_delay_p50_ms)} p99 ${hours(figures.label_delay_p99_ms)}, expired ${figures.expired}`
  );
}

/** The last drift window of a model version, naming what moved. */
function describeDrift(report: DriftReport): string {
  const moved = report.features
    .filter((feature) => feature.severity !== 'OK')
    .map((feature) => `${feature.feature} PSI ${feature.psi.toFixed(3)} (${feature.severity})`);
  return (
    `  drift ${report.modelName}@${report.modelVersion}: ${report.severity} over ${report.samples} events ` +
    `to ${new Date(report.windowEnd).toISOString()}, score PSI ${report.scorePsi.toFixed(3)}` +
    (moved.length > 0 ? `; ${moved.join(', ')}` : '')
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
  return [
    `${parts.join('; ')}; ${decided}`,
    ...status.experiments.map(describePair),
    ...(status.drift ?? []).map(describeDrift),
    ...(status.groundTruth ?? []).map(describeGroundTruth),
  ].join('\n');
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
    const answer = await call<DecisionAnswer>(
      config,
      `${adminUrl(config, flags)}/v1/models/${path}`,
      method,
      body,
    );
    process.stdout.write(`${describeDecision(answer)}\n`);
  };

  withAdmin(
    models.command('list').description('Show what each deployment serves, and the decision in force.'),
  ).action(async (_flags: AdminFlags, command: Command) => {
    const { config } = createRuntime(command.optsWithGlobals<GlobalOptions>());
    const statuses = await call<ListedDeployment[]>(
      config,
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
  models
    .command('sign')
    .description(
      "Sign a version folder's manifest.json with an Ed25519 private key: writes manifest.json.sig beside it.",
    )
    .argument('<version-folder>')
    .requiredOption('--key <private-key.pem>', 'PEM Ed25519 private key (streamscore models keygen)')
    .action(async (folder: string, flags: { key: string }) => {
      const { manifest, signaturePath } = await signVersion(folder, await readSigningKey(flags.key));
      process.stdout.write(`signed ${manifest.name}@${manifest.version}: wrote ${signaturePath}\n`);
    });
  models
    .command('keygen')
    .description(
      'Write a new Ed25519 key pair for signing versions into a folder (the private key mode 600).',
    )
    .argument('<folder>')
    .action(async (folder: string) => {
      const { privateKeyPem, publicKeyPem } = generateSigningKeyPair();
      const privatePath = resolve(join(folder, 'model-signing-key.pem'));
      const publicPath = resolve(join(folder, 'model-signing-key.pub.pem'));
      await mkdir(folder, { recursive: true });
      // 'wx': an existing key is never overwritten.
      await writeFile(privatePath, privateKeyPem, { mode: 0o600, flag: 'wx' });
      await writeFile(publicPath, publicKeyPem, { mode: 0o644, flag: 'wx' });
      process.stdout.write(
        `private key ${privatePath} (signs versions: keep it off the serving hosts)\n` +
          `public key ${publicPath} (give it to the service: model.publicKeyFile)\n`,
      );
    });
}
