import type { Command } from 'commander';
import { configHelp, configMarkdown } from '../../config/index.js';
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

export function registerConfig(program: Command): void {
  program
    .command('config')
    .description('List the settings, or show the configuration this environment resolves to.')
    .option('--markdown', 'print the settings as the Markdown table in the README', false)
    .option('--show', 'print the resolved configuration as JSON (passwords masked)', false)
    .action((flags: ConfigFlags, command: Command) => {
      if (flags.show) {
        const { config } = createRuntime(command.optsWithGlobals<GlobalOptions>());
        const masked = {
          ...config,
          kafka: { ...config.kafka, saslPassword: config.kafka.saslPassword ? '***' : '' },
          registry: {
            ...config.registry,
            password: config.registry.password ? '***' : '',
            urls: config.registry.urls.map(withoutCredentials),
          },
        };
        process.stdout.write(`${JSON.stringify(masked, null, 2)}\n`);
        return;
      }
      process.stdout.write(`${flags.markdown ? configMarkdown() : configHelp()}\n`);
    });
}
