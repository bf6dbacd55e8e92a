import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { configHelp, packagePath } from '../../config/index.js';
import {
  createRuntime,
  type GlobalOptions,
  onShutdownSignal,
  type Serving,
  serveUnlessStopped,
} from '../runtime.js';

const TELEMETRY_HELP = `
Telemetry uses OpenTelemetry's standard environment variables: OTEL_SERVICE_NAME, OTEL_TRACES_EXPORTER
(otlp once OTEL_EXPORTER_OTLP_ENDPOINT is set, none until then), OTEL_TRACES_SAMPLER and
OTEL_TRACES_SAMPLER_ARG (e.g. parentbased_traceidratio and 0.1), OTEL_SDK_DISABLED. Prometheus metrics
are served at /metrics on the admin port.`;

function packageVersion(): string {
  return (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Consume events, score them with the model, publish predictions (the service).')
    .addHelpText('after', `\n${configHelp()}\n${TELEMETRY_HELP}`)
    .action(async (_options: unknown, command: Command) => {
      const runtime = createRuntime(command.optsWithGlobals<GlobalOptions>());
      const stopping = new AbortController();
      let starting: Promise<Serving | undefined> = Promise.resolve(undefined);
      onShutdownSignal(runtime.logger, async () => {
        stopping.abort();
        // Stopped while starting: the start released everything itself before settling.
        await (await starting)?.stop();
      });
      starting = serveUnlessStopped(runtime, stopping.signal, packageVersion());
      await starting;
    });
}
