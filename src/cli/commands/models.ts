import type { Command } from 'commander';
import type { Config } from '../../config/index.js';
import type { ModelStatus } from '../../inference/index.js';
import { createRuntime, type GlobalOptions } from '../runtime.js';

interface AdminFlags {
  adminUrl?: string;
}

function adminUrl(config: Config, flags: AdminFlags): string {
  if (flags.adminUrl) return flags.adminUrl.replace(/\/$/, '');
  const host = config.admin.host === '0.0.0.0' ? '127.0.0.1' : config.admin.host;
  return `http://${host}:${config.admin.port}`;
}

async function call<T>(url: string, method: 'GET' | 'POST'): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, { method });
  } catch (error) {
    throw new Error(`no streamscore admin server answers at ${url} (is the service running? --admin-url)`, {
      cause: error,
    });
  }
  const body = (await response.json()) as T & { error?: string };
  if (!response.ok) throw new Error(body.error ?? `${method} ${url}: HTTP ${response.status}`);
  return body;
}

function describe(status: ModelStatus): string {
  const standby = status.standby ? `, standby ${status.standby.version}` : '';
  const refused = status.refused.length ? `, refused ${status.refused.join(', ')}` : '';
  const serving = status.serving
    ? `${status.serving.version} (since ${status.serving.deployedAt})`
    : 'nothing';
  return `${status.name}: serving ${serving}${standby}${refused}; ${status.pendingRows} rows in inference, ${status.cachedPredictions} cached`;
}

export function registerModels(program: Command): void {
  const models = program
    .command('models')
    .description('Inspect and operate the models of a running service.');
  models
    .command('list')
    .description('Show what the running service has loaded and is serving.')
    .option('--admin-url <url>', 'admin server of the service (default: from admin.host and admin.port)')
    .action(async (flags: AdminFlags, command: Command) => {
      const { config } = createRuntime(command.optsWithGlobals<GlobalOptions>());
      const statuses = await call<ModelStatus[]>(`${adminUrl(config, flags)}/v1/models`, 'GET');
      for (const status of statuses) process.stdout.write(`${describe(status)}\n`);
    });
  models
    .command('rollback <model>')
    .description(
      'Serve the previous version again; the current one is refused until a newer version appears.',
    )
    .option('--admin-url <url>', 'admin server of the service (default: from admin.host and admin.port)')
    .action(async (model: string, flags: AdminFlags, command: Command) => {
      const { config } = createRuntime(command.optsWithGlobals<GlobalOptions>());
      const url = `${adminUrl(config, flags)}/v1/models/${encodeURIComponent(model)}/rollback`;
      const { from, to } = await call<{ from: string; to: string }>(url, 'POST');
      process.stdout.write(`${model}: rolled back from version ${from} to ${to}\n`);
    });
}
