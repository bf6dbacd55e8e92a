/**
 * The monitoring side of a process (monitoring.drift, monitoring.labelsTopic): drift windows over the
 * scored batches, the ground-truth join, retrain suggestions, their records on the monitoring topic and
 * their metrics. Monitoring records are observations, published at least once by a producer of their own
 * outside the batches' transactions: a failure to publish one is logged and never holds up scoring.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordDecoder, RecordEncoder } from '../codec/index.js';
import type { Config } from '../config/index.js';
import { connectPublisher, type Publisher, requireTopics } from '../kafka/index.js';
import { manifestSchema } from '../models/index.js';
import {
  type ClassLabels,
  createLabelJoiner,
  type DriftReport,
  driftMonitoringEvent,
  type GroundTruthLabel,
  type GroundTruthTally,
  groundTruthMonitoringEvent,
  type LabelJoiner,
  type MonitoringEvent,
  type RetrainSuggestion,
  RetrainWatch,
  registerMonitoringMetrics,
  retrainMonitoringEvent,
  watchDrift,
} from '../monitoring/index.js';
import type { Prediction } from '../routing/index.js';
import type { Logger, Telemetry } from '../telemetry/index.js';

export interface ServiceMonitoring {
  drift(): readonly DriftReport[];
  groundTruth(): readonly GroundTruthTally[];
  close(): Promise<void>;
}

export interface MonitoringCodecs {
  monitoring: RecordEncoder<MonitoringEvent> | undefined;
  groundTruth:
    | { predictions: RecordDecoder<Prediction>; labels: RecordDecoder<GroundTruthLabel> }
    | undefined;
}

/**
 * The class labels of every model version a prediction on the output topic may name, read from the model
 * repository once per version (a version served before this process started included).
 */
function classLabelsFromRepository(
  repository: string,
): (name: string, version: string) => ClassLabels | undefined {
  const known = new Map<string, ClassLabels | undefined>();
  return (name, version) => {
    const key = `${name}@${version}`;
    if (!known.has(key)) {
      let labels: ClassLabels | undefined;
      try {
        const parsed = manifestSchema.safeParse(
          JSON.parse(readFileSync(join(repository, name, version, 'manifest.json'), 'utf8')),
        );
        labels = parsed.success ? parsed.data.labels : undefined;
      } catch {
        labels = undefined;
      }
      known.set(key, labels);
    }
    return known.get(key);
  };
}

/** Undefined when neither drift nor ground truth is on. */
export async function startMonitoring(
  config: Config,
  codecs: MonitoringCodecs,
  telemetry: Telemetry,
  parentLogger: Logger,
): Promise<ServiceMonitoring | undefined> {
  const settings = config.monitoring;
  const encoder = codecs.monitoring;
  if (!encoder) return undefined;
  const logger = parentLogger.child({ component: 'monitoring' });
  const instance = config.kafka.clientId;
  await requireTopics(config.kafka, logger, [
    settings.topic,
    ...(settings.labelsTopic ? [settings.labelsTopic] : []),
  ]);
  const publisher: Publisher = await connectPublisher(config.kafka, logger, 'monitoring');

  // A version's drift and each of its variants' ground truth are watched apart; a new version, a new watch.
  const watches = new Map<string, RetrainWatch>();
  const suggest = (
    key: string,
    model: { name: string; version: string },
    observe: (watch: RetrainWatch) => RetrainSuggestion[],
  ) => {
    let watch = watches.get(key);
    if (!watch) {
      watch = new RetrainWatch(settings);
      watches.set(key, watch);
    }
    for (const suggestion of observe(watch)) {
      logger.warn({ model: `${model.name}@${model.version}`, ...suggestion }, 'retrain suggested');
      publish(retrainMonitoringEvent(suggestion, model, instance, Date.now()));
    }
  };

  // One after the other, so the topic holds a model version's events in the order they were made.
  let publishing = Promise.resolve();
  const publish = (event: MonitoringEvent) => {
    const record = { key: `${event.model_name}@${event.model_version}`, value: encoder.encode(event) };
    publishing = publishing
      .then(() => publisher.publish(settings.topic, [record]))
      .catch((error: unknown) =>
        logger.warn({ err: error, kind: event.kind }, 'a monitoring record could not be published; dropped'),
      );
  };

  const drift = settings.drift
    ? watchDrift(
        {
          windowEvents: settings.driftWindowEvents,
          windowMs: settings.driftWindowMs,
          minSamples: Math.min(settings.driftMinSamples, settings.driftWindowEvents),
          psiWarn: settings.psiWarn,
          psiAlert: settings.psiAlert,
          ignoreFeatures: settings.driftIgnoreFeatures,
          onReport(report) {
            const moved = report.features.filter((feature) => feature.severity !== 'OK');
            const details = {
              model: `${report.modelName}@${report.modelVersion}`,
              samples: report.samples,
              severity: report.severity,
              scorePsi: Number(report.scorePsi.toFixed(4)),
              features: Object.fromEntries(
                moved.map((feature) => [feature.feature, Number(feature.psi.toFixed(4))]),
              ),
            };
            if (report.severity === 'OK') logger.debug(details, 'drift window');
            else logger.warn(details, `drift window: ${report.severity}`);
            const now = Date.now();
            publish(driftMonitoringEvent(report, instance, now));
            const model = { name: report.modelName, version: report.modelVersion };
            suggest(`${model.name}@${model.version}`, model, (watch) => watch.observeDrift(report, now));
          },
        },
        logger,
      )
    : undefined;

  let joiner: LabelJoiner | undefined;
  let reporting: NodeJS.Timeout | undefined;
  if (settings.labelsTopic && codecs.groundTruth) {
    joiner = createLabelJoiner(config.kafka, logger, {
      predictionsTopic: config.output.topic,
      labelsTopic: settings.labelsTopic,
      ttlMs: settings.labelTtlMs,
      maxPendingPredictions: settings.maxPendingJoins,
      maxPendingLabels: settings.maxPendingJoins,
      predictionDecoder: codecs.groundTruth.predictions,
      labelDecoder: codecs.groundTruth.labels,
      classLabelsOf: classLabelsFromRepository(config.model.repository),
    });
    const started = joiner;
    started.start().then(
      () => logger.info(started.counts(), 'ground truth: labels and predictions re-read; joining live'),
      (error: unknown) => logger.warn({ err: error }, 'ground truth join did not start'),
    );
    reporting = setInterval(() => {
      const now = Date.now();
      for (const tally of started.tallies()) {
        publish(groundTruthMonitoringEvent(tally, instance, now));
        const model = { name: tally.modelName, version: tally.modelVersion };
        suggest(`${model.name}@${model.version}/${tally.variant}`, model, (watch) =>
          watch.observeGroundTruth(tally.report(), now),
        );
      }
    }, settings.reportIntervalMs);
    reporting.unref();
  }

  const figures = {
    drift: () => drift?.latest() ?? [],
    groundTruth: () => joiner?.tallies() ?? [],
  };
  const unregister = registerMonitoringMetrics(telemetry.meter, figures);
  return {
    ...figures,
    async close() {
      unregister();
      if (reporting) clearInterval(reporting);
      drift?.close();
      await joiner?.stop();
      await publishing;
      await publisher.disconnect();
    },
  };
}
