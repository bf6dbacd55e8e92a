/**
 * The OpenTelemetry providers of a process. The command line starts the SDK the standard way (OTEL_*
 * environment variables: OTLP export by default, OTEL_TRACES_SAMPLER for sampling, OTEL_SDK_DISABLED to
 * turn it off) with a Prometheus reader that the admin server serves at /metrics. Tests build providers
 * of their own and pass them in; nothing in the pipeline reaches for a global.
 */
import {
  type Attributes,
  createNoopMeter,
  type Meter,
  metrics,
  ProxyTracerProvider,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';

export interface Telemetry {
  readonly tracer: Tracer;
  readonly meter: Meter;
  /** Prometheus text of every metric, for the admin server's /metrics; undefined when not collected. */
  scrape(): Promise<string | undefined>;
  shutdown(): Promise<void>;
}

const INSTRUMENTATION_SCOPE = 'streamscore';

/** Telemetry around a Prometheus reader (and whatever else the providers export). */
export function telemetryFrom(
  tracer: Tracer,
  meter: Meter,
  prometheus: PrometheusExporter | undefined,
  shutdown: () => Promise<void>,
): Telemetry {
  const serializer = new PrometheusSerializer();
  return {
    tracer,
    meter,
    async scrape() {
      if (!prometheus) return undefined;
      const { resourceMetrics } = await prometheus.collect();
      return serializer.serialize(resourceMetrics);
    },
    shutdown,
  };
}

/**
 * Starts the OpenTelemetry SDK from the standard environment variables, `resource` added to what they
 * say (a loop's index, so several loops of one process export apart). One departure: with no OTLP
 * endpoint configured, traces and pushed metrics default to `none` instead of OTLP on localhost, which
 * would log a connection error every few seconds on every machine without a collector.
 */
export function startProcessTelemetry(version: string, resource: Attributes = {}): Telemetry {
  const env = process.env;
  const endpointConfigured = Boolean(
    env.OTEL_EXPORTER_OTLP_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
  );
  env.OTEL_TRACES_EXPORTER ??= endpointConfigured ? 'otlp' : 'none';
  env.OTEL_METRICS_EXPORTER ??=
    (env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT) ? 'otlp' : 'none';
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const sdk = new NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME ?? 'streamscore',
    // The SDK's default resource (telemetry.sdk.*) is replaced by one given here, so it is merged in.
    resource: defaultResource().merge(resourceFromAttributes(resource)),
    metricReaders: [prometheus],
    instrumentations: [],
  });
  sdk.start();
  return telemetryFrom(
    trace.getTracer(INSTRUMENTATION_SCOPE, version),
    metrics.getMeter(INSTRUMENTATION_SCOPE, version),
    prometheus,
    () => sdk.shutdown(),
  );
}

/** No tracing, no metrics: for tools and tests that do not look at them. */
export function disabledTelemetry(): Telemetry {
  // A proxy provider with no delegate hands out no-op tracers, whatever the global provider is.
  return telemetryFrom(
    new ProxyTracerProvider().getTracer('noop'),
    createNoopMeter(),
    undefined,
    async () => undefined,
  );
}
