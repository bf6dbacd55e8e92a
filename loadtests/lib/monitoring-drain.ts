/**
 * The full service draining the same backlog with monitoring off, and with monitoring.alerts and
 * monitoring.drift on, in alternating rounds of one run. Each drain is lib/scenarios.ts's drainCapacity
 * against the standard service target (targets/service.ts), a fresh consumer group re-reading the one
 * backlog, with the `monitoring` settings in its target config, so the two modes differ in nothing else.
 * A drain with monitoring on writes its alerts and drift windows to topics of its own, counted once it
 * has stopped: what monitoring published, and proof that the target applied the settings.
 */
import type { Kafka } from 'kafkajs';
import type { ConfigInput } from '../../src/config/index.js';
import { createTopics, deleteTopics, uniqueName } from './broker.js';
import { createEventSource } from './events.js';
import { alternate, drainOutcome, loadAverage } from './rounds.js';
import {
  type BenchContext,
  type DrainRun,
  drainCapacity,
  publishBacklog,
  type TargetSetup,
} from './scenarios.js';

export type MonitoringMode = 'off' | 'on';

export const MONITORING_MODES: readonly [MonitoringMode, MonitoringMode] = ['off', 'on'];

export const MODE_LABELS: Record<MonitoringMode, string> = {
  off: 'monitoring off',
  on: 'alerts + drift on',
};

/** The service's `monitoring` section, as a target config carries it to the service. */
export type MonitoringSetting = NonNullable<ConfigInput['monitoring']>;

/**
 * Rounds of each mode: 6 in full (the goal is a 5% difference on a noisy machine; an even number lets each
 * mode go first as often), 1 with --quick.
 */
export const drainRounds = (quick: boolean) => (quick ? 1 : 6);

export interface MonitoringDrain {
  mode: MonitoringMode;
  round: number;
  /** The machine's 1-minute load average when the drain started. */
  loadAverage: number;
  /** Records on the drain's alerts topic once the service stopped; null with monitoring off. */
  alerts: number | null;
  /**
   * Records on the drain's monitoring topic once the service stopped: drift windows, since nothing else
   * publishes there in a drain (no labels topic; a retrain suggestion needs an hour of ALERT windows).
   * Null with monitoring off.
   */
  driftWindows: number | null;
  drain: DrainRun;
}

/** Alerts and drift on, every other monitoring setting at the service's default; topics per drain. */
export const MONITORING_ON: MonitoringSetting = { alerts: true, drift: true };

/** Records a topic holds: without transactions (output.exactlyOnce is off) every offset is a record. */
async function recordsIn(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, { high, low }) => sum + Number(BigInt(high) - BigInt(low)), 0);
  } finally {
    await admin.disconnect();
  }
}

/** A drain with monitoring on that published neither an alert nor a window did not run monitoring. */
export class MonitoringNotAppliedError extends Error {
  readonly code = 'MONITORING_NOT_APPLIED';
  constructor(round: number) {
    super(
      `round ${round}: the service published no alert and no drift window with monitoring on; ` +
        'the service target did not apply the `monitoring` setting (loadtests/targets/target-config.ts must pass it on)',
    );
  }
}

async function drainInMode(
  context: BenchContext,
  backlogTopic: string,
  mode: MonitoringMode,
  round: number,
): Promise<MonitoringDrain> {
  const { kafka, options } = context;
  const startLoad = loadAverage();
  if (mode === 'off') {
    const drain = await drainCapacity(context, 'service', backlogTopic, options.drainBacklog, 'unique');
    process.stderr.write(`  ${MODE_LABELS[mode]}, round ${round}: ${drainOutcome(drain)}\n`);
    return { mode, round, loadAverage: startLoad, alerts: null, driftWindows: null, drain };
  }
  // Topics of this drain's own, created before the service starts (it refuses to start without them).
  const alertsTopic = uniqueName('monitoring-alerts');
  const monitoringTopic = uniqueName('monitoring-windows');
  await createTopics(kafka, [alertsTopic, monitoringTopic], options.partitions);
  try {
    // TargetSetup does not declare `monitoring` (yet): withTarget hands every setting it does not use
    // itself to the target's config, which is where the service target reads it.
    const setup: TargetSetup & { monitoring: MonitoringSetting } = {
      monitoring: { ...MONITORING_ON, alertsTopic, topic: monitoringTopic },
    };
    const drain = await drainCapacity(
      context,
      'service',
      backlogTopic,
      options.drainBacklog,
      'unique',
      setup,
    );
    const alerts = await recordsIn(kafka, alertsTopic);
    const driftWindows = await recordsIn(kafka, monitoringTopic);
    process.stderr.write(
      `  ${MODE_LABELS[mode]}, round ${round}: ${drainOutcome(drain)}; ${alerts} alerts, ${driftWindows} drift windows\n`,
    );
    if (drain.outputs > 0 && alerts === 0 && driftWindows === 0) throw new MonitoringNotAppliedError(round);
    return { mode, round, loadAverage: startLoad, alerts, driftWindows, drain };
  } finally {
    await deleteTopics(kafka, [alertsTopic, monitoringTopic]);
  }
}

/**
 * Publishes `options.drainBacklog` events once, then drains them `rounds` times in each mode, monitoring
 * off first in odd rounds.
 */
export async function alternatingMonitoringDrains(
  context: BenchContext,
  rounds: number,
): Promise<MonitoringDrain[]> {
  const { kafka, options } = context;
  const backlogTopic = uniqueName('monitoring-backlog');
  // The service refuses to start without its dead-letter topic.
  const topics = [backlogTopic, `${backlogTopic}.DLT`];
  const drains: MonitoringDrain[] = [];
  try {
    await createTopics(kafka, topics, options.partitions);
    await publishBacklog(kafka, backlogTopic, createEventSource('unique'), options.drainBacklog);
    process.stderr.write(`  published ${options.drainBacklog} events to ${backlogTopic}\n`);
    for (let round = 1; round <= rounds; round++) {
      for (const mode of alternate(round, MONITORING_MODES)) {
        drains.push(await drainInMode(context, backlogTopic, mode, round));
      }
    }
  } finally {
    await deleteTopics(kafka, topics);
  }
  return drains;
}
