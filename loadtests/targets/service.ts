/** Benchmark target: the full streamscore service, in-process in this child, as `streamscore serve` runs it. */
import { startService } from '../../src/service/index.js';
import { createLogger, startProcessTelemetry, type Telemetry } from '../../src/telemetry/index.js';
import type { TelemetrySetting } from '../lib/targets.js';
import { runTarget } from './child.js';
import { serviceConfig } from './target-config.js';

/**
 * The SDK configured through the same OTEL_* variables an operator sets. The span queue is sized for a
 * stream of thousands of records a second: the SDK's default (2,048 spans, exported every 5 s) drops most
 * spans at sampling 1.0, which would make tracing look cheaper than it is.
 */
function startTelemetry(setting: TelemetrySetting): Telemetry {
  Object.assign(process.env, {
    OTEL_SDK_DISABLED: 'false',
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: String(setting.sampling),
    OTEL_EXPORTER_OTLP_ENDPOINT: setting.otlpEndpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_BSP_MAX_QUEUE_SIZE: '65536',
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '4096',
    OTEL_BSP_SCHEDULE_DELAY: '1000',
  });
  return startProcessTelemetry('bench');
}

await runTarget(async (target) => {
  const config = serviceConfig(target, 'bench-service');
  const logger = createLogger(config.log);
  const telemetry = target.telemetry ? startTelemetry(target.telemetry) : undefined;
  const service = await startService(config, logger, {
    onFatal: (error) => {
      logger.fatal({ err: error }, 'service consumer stopped for good');
      process.exit(1);
    },
    ...(telemetry ? { telemetry } : {}),
  });
  // What a Prometheus server would do to the process, through the same route.
  const scraper =
    target.telemetry &&
    setInterval(
      () =>
        void fetch(`${service.adminUrl}/metrics`)
          .then((response) => response.text())
          // A scrape cut off by the stop is of no interest.
          .catch(() => undefined),
      target.telemetry.scrapeIntervalMs,
    );
  return {
    outputs: () => service.counters.predictionsOut,
    stop: async () => {
      clearInterval(scraper);
      await service.stop();
      await telemetry?.shutdown();
    },
  };
});
