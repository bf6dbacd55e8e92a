/**
 * `streamscore experiments backtest`: a candidate version and the version it would replace score a time
 * range of the input topic off the serving path (src/cli/backtest.ts), and the result reads like the
 * experiments report of a shadow that had run over that range, with precision and recall where labels are.
 */
import type avro from 'avsc';
import type { Command } from 'commander';
import type { Config } from '../../config/index.js';
import { ConfigurationError, isBadRecord } from '../../errors/index.js';
import { formatPair } from '../../experiments/index.js';
import { compileFeatureExtractor } from '../../features/index.js';
import { createScoringSession, zeroSubnormalWeights } from '../../inference/index.js';
import { readTopicRange } from '../../kafka/index.js';
import { listVersions, readModelArtifact, readModelPublicKey, selectVersion } from '../../models/index.js';
import { type InputReaders, openInputReaders } from '../../service/index.js';
import {
  type BacktestModel,
  type BacktestResult,
  createBacktest,
  type KnownLabel,
  type ModelOutcome,
} from '../backtest.js';
import { createReportRuntime, type GlobalOptions, type Runtime } from '../runtime.js';
import {
  isoTime,
  resolveTimeRange,
  type TimeRange,
  type TimeRangeFlags,
  timeRangeOptions,
} from '../time-range.js';

interface BacktestFlags extends TimeRangeFlags {
  against?: string;
  topic?: string;
  labelsTopic?: string;
  json: boolean;
}

export interface BacktestReport extends BacktestResult {
  topic: string;
  from: string | null;
  to: string | null;
  labelsTopic: string | null;
  /** Label records read (the latest of an event's labels counts). */
  labels: number;
  /** Records of the labels topic that are not labels (not counted). */
  undecodableLabels: number;
}

/** `model@version`, or `model` for its latest version, from model.repository. */
async function loadVersion(
  config: Config,
  reference: string,
  variant: string,
  inputType: avro.Type,
): Promise<BacktestModel> {
  const [name = '', version = 'latest'] = reference.split('@');
  const { repository, publicKeyFile, intraOpThreads } = config.model;
  const found = selectVersion(await listVersions(repository, name), version);
  if (!found) {
    throw new ConfigurationError('MODEL_MANIFEST_INVALID', `${reference}: no such version in ${repository}`);
  }
  const publicKey = publicKeyFile ? await readModelPublicKey(publicKeyFile) : undefined;
  const artifact = await readModelArtifact(found.directory, { publicKey });
  // The weights as the service runs them (src/inference/subnormal.ts), so the scores are the service's.
  const runnable = { ...artifact, bytes: zeroSubnormalWeights(artifact.bytes).bytes };
  const { manifest } = artifact;
  return {
    variant,
    session: await createScoringSession(runnable, { intraOpThreads }),
    features: compileFeatureExtractor(manifest.features, inputType, manifest.inputs[0]!.type),
  };
}

/** Every label of the topic from the range's start on: a label arrives after its event, often days after. */
async function readLabels(
  runtime: Runtime,
  topic: string,
  fromMs: number | undefined,
  decoder: InputReaders['labels'],
): Promise<{ labels: Map<string, KnownLabel>; read: number; undecodable: number }> {
  const labels = new Map<string, KnownLabel>();
  const pending: { value: Buffer | null }[] = [];
  let undecodable = 0;
  const read = await readTopicRange(runtime.config.kafka, runtime.logger, {
    topic,
    fromMs,
    onRecord: (record) => pending.push(record),
    async onBatchRead() {
      await decoder.prepare(pending);
      for (const { value } of pending.splice(0)) {
        try {
          const label = decoder.decode(value);
          labels.set(label.event_id, { label: label.label, labelTime: label.label_time });
        } catch (error) {
          if (!isBadRecord(error)) throw error;
          undecodable += 1;
        }
      }
    },
  });
  return { labels, read: read - undecodable, undecodable };
}

async function backtest(
  candidateReference: string,
  flags: BacktestFlags,
  range: TimeRange,
  runtime: Runtime,
): Promise<BacktestReport> {
  const { config, logger } = runtime;
  const topic = flags.topic ?? config.input.topic;
  const labelsTopic = flags.labelsTopic ?? (config.monitoring.labelsTopic || undefined);
  const readers = await openInputReaders(config);
  const models: BacktestModel[] = [];
  try {
    const baselineReference = flags.against ?? `${config.model.name}@${config.model.version}`;
    models.push(await loadVersion(config, baselineReference, 'baseline', readers.input.type));
    models.push(await loadVersion(config, candidateReference, 'candidate', readers.input.type));
    const known = labelsTopic
      ? await readLabels(runtime, labelsTopic, range.fromMs, readers.labels)
      : undefined;
    const run = createBacktest({
      decoder: readers.input,
      baseline: models[0]!,
      candidate: models[1]!,
      labels: known?.labels,
    });
    await readTopicRange(config.kafka, logger, {
      topic,
      fromMs: range.fromMs,
      toMs: range.toMs,
      onRecord: run.add,
      onBatchRead: run.flush,
    });
    return {
      topic,
      from: isoTime(range.fromMs),
      to: isoTime(range.toMs),
      labelsTopic: labelsTopic ?? null,
      labels: known?.read ?? 0,
      undecodableLabels: known?.undecodable ?? 0,
      ...run.result(),
    };
  } finally {
    readers.close();
    await Promise.all(models.map(({ session }) => session.release()));
  }
}

const percent = (value: number | null) => (value === null ? '-' : `${(value * 100).toFixed(2)}%`);

function describeOutcome(outcome: ModelOutcome): string {
  const head =
    `${outcome.variant} ${outcome.model}@${outcome.version}: ${outcome.scored} scored, ` +
    `${outcome.positives} at or above ${outcome.threshold} (${percent(outcome.positiveRate)})`;
  const truth = outcome.groundTruth;
  if (!truth) return head;
  return (
    `${head}; ${truth.labelled} labelled: precision ${percent(truth.precision)}, recall ${percent(truth.recall)}, ` +
    `false positive rate ${percent(truth.false_positive_rate)} ` +
    `(TP ${truth.true_positives}, FP ${truth.false_positives}, TN ${truth.true_negatives}, FN ${truth.false_negatives})`
  );
}

function printHuman(report: BacktestReport): void {
  const range = `${report.from ?? 'the beginning'} to ${report.to ?? 'now'}`;
  const skipped = report.skipped.map(({ code, count }) => `${code} ${count}`).join(', ');
  const undecodable = report.undecodableLabels ? ` (${report.undecodableLabels} undecodable skipped)` : '';
  const labels = report.labelsTopic
    ? `; ${report.labels} labels read from ${report.labelsTopic}${undecodable}`
    : '';
  process.stdout.write(
    `${report.topic} from ${range}: ${report.events} events read, ${report.scored} scored` +
      `${skipped ? `, skipped ${skipped}` : ''}${labels}\n` +
      `${describeOutcome(report.baseline)}\n${describeOutcome(report.candidate)}\n\n`,
  );
  if (report.comparison) {
    const pair = { champion: report.baseline, challenger: report.candidate };
    process.stdout.write(`${formatPair(pair, [['range', report.comparison]])}\n`);
  }
}

export function registerBacktest(experiments: Command): void {
  const command = experiments
    .command('backtest')
    .description(
      'Score a time range of the input topic with a candidate version and the version it would replace, off ' +
        'the serving path, and print what a shadow of the candidate would have shown; with labels, each ' +
        "version's precision and recall. Needs no running service.",
    )
    .argument('<candidate>', 'model@version in model.repository, or model for its latest version')
    .option('--against <model@version>', 'the baseline (default: model.name at model.version)')
    .option('--topic <topic>', 'input topic (default: input.topic)')
    .option(
      '--labels-topic <topic>',
      'ground-truth labels (schemas/label.avsc) to judge both by (default: monitoring.labelsTopic, if set)',
    );
  timeRangeOptions(command)
    .option('--json', 'print the result as one JSON object', false)
    .action(async (candidate: string, flags: BacktestFlags, command: Command) => {
      const range = resolveTimeRange(flags, command);
      const runtime = createReportRuntime(command.optsWithGlobals<GlobalOptions>());
      const report = await backtest(candidate, flags, range, runtime);
      if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else printHuman(report);
    });
}
