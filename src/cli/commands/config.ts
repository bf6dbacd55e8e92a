import type { Command } from 'commander';
import { type Config, configHelp, configMarkdown, settings } from '../../config/index.js';
import { createRuntime, type GlobalOptions } from '../runtime.js';

interface ConfigFlags {
  markdown: boolean;
  show: boolean;
}

/** A URL's user information is a credential too. */
function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  if (parsed.username === '' && parsed.password === '') return url;
  parsed.username = '***';
  parsed.password = '';
  return parsed.href;
}

/** The configuration with every secret setting masked, and credentials taken out of URLs. */
export function maskedConfig(config: Config): Record<string, Record<string, unknown>> {
  const masked: Record<string, Record<string, unknown>> = {};
  for (const [section, values] of Object.entries(config)) masked[section] = { ...values };
  for (const { path, secret } of settings) {
    const [section, key] = path;
    if (secret && masked[section]?.[key]) masked[section][key] = '***';
  }
  masked.registry!.urls = config.registry.urls.map(withoutCredentials);
  return masked;
}

export function registerConfig(program: Command): void {
  program
    .command('config')
    .description('List the settings, or show the configuration this environment resolves to.')
    .option('--markdown', 'print the settings as the Markdown table in the README', false)
    .option('--show', 'print the resolved configuration as JSON (secrets masked)', false)
    .action((flags: ConfigFlags, command: Command) => {
      if (flags.show) {
        const { config } = createRuntime(command.optsWithGlobals<GlobalOptions>());
        process.stdout.write(`${JSON.stringify(maskedConfig(config), null, 2)}\n`);
        return;
      }
      process.stdout.write(`${flags.markdown ? configMarkdown() : configHelp()}\n`);
    });
}
