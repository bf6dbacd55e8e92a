/**
 * Instances joining and leaving one group under a steady open-loop load, one change at a time, each after
 * the one before has settled (the group Stable with the expected members and every partition assigned,
 * then the lag back at its level for SETTLE_MS). Two scenarios:
 *
 * - membership: 1 instance, add a 2nd, add a 3rd, SIGTERM one (graceful: it finishes its batches,
 *   commits, leaves), SIGKILL one (nothing: the group waits out the session timeout);
 * - rolling restart: 3 instances, each replaced in turn: SIGTERM to the old one and its replacement
 *   started at once. Without static membership (kafkajs 2.2.4 has no group.instance.id) each replacement
 *   is up to two rebalances: one when the old instance leaves, one when the new one joins.
 *
 * At the end every prediction is read back to the output's end offsets and checked against the events
 * sent (lib/scale-output.ts's audit).
 */
import { loadAverage } from './rounds.js';
import { LAG_FLOOR_SECONDS } from './scale-changes.js';
import { watchGroup } from './scale-group.js';
import {
  type DeliveryMode,
  type InstanceSettings,
  type ServiceInstance,
  startInstance,
  terminateAll,
} from './scale-instances.js';
import type { DeliveryAudit } from './scale-output.js';
import {
  ASSIGN_TIMEOUT_MS,
  type Cluster,
  change,
  expectedMembers,
  type MembershipChange,
  settle,
  toStream,
} from './scale-step.js';
import { type LiveStream, startStream } from './scale-stream.js';
import { createScaleTopics, SCALE_PARTITIONS, type ScaleTopics } from './scale-topics.js';
import type { BenchContext } from './scenarios.js';

export interface MembershipRun {
  scenario: 'membership' | 'rolling';
  mode: DeliveryMode;
  rate: number;
  settings: InstanceSettings;
  loadAverage: { start: number; end: number };
  seconds: number;
  changes: MembershipChange[];
  audit: DeliveryAudit;
  /** The lag once a second, for the record. */
  lag: { seconds: number; lag: number }[];
  /** The group as the coordinator described it, at each change of state or members. */
  group: { seconds: number; state: string; members: number }[];
  /** Error log lines of any instance. */
  instanceErrors: { instance: string; errors: string[] }[];
}

/** After the last change: how long the predictions still due may take. */
const FINAL_GRACE_MS = 30_000;
const AUDIT_TIMEOUT_MS = 60_000;
/** Longest the whole scenario may run; sizes the stream's per-event arrays. */
const MAX_STREAM_SECONDS = 900;

interface ScenarioPlan {
  scenario: MembershipRun['scenario'];
  mode: DeliveryMode;
  rate: number;
  tickMs: number;
  settings: InstanceSettings;
  /** Instances started together before the stream. */
  initial: number;
  steps: (cluster: Cluster) => Promise<MembershipChange[]>;
}

async function runScenario(context: BenchContext, plan: ScenarioPlan): Promise<MembershipRun> {
  const { kafka, options } = context;
  const startLoad = loadAverage();
  const short = plan.mode === 'exactly-once' ? 'eos' : 'alo';
  const topics = await createScaleTopics(kafka, options.brokers, options.model, `${plan.scenario}-${short}`);
  const watch = await watchGroup(kafka, topics.groupId, topics.input);
  const all: ServiceInstance[] = [];
  const spawn = () => {
    const instance = startInstance(
      topics,
      `${plan.scenario}-${short}-${all.length + 1}`,
      plan.mode,
      plan.settings,
    );
    all.push(instance);
    return instance;
  };
  let stream: LiveStream | undefined;
  try {
    const initial = Array.from({ length: plan.initial }, spawn);
    await Promise.all(initial.map((instance) => instance.when('scoring')));
    stream = await startStream(kafka, {
      label: `${plan.scenario}, ${plan.mode}`,
      inputTopic: topics.input,
      outputTopic: topics.output,
      outputPartitions: SCALE_PARTITIONS,
      rate: plan.rate,
      tickMs: plan.tickMs,
      maxSeconds: MAX_STREAM_SECONDS,
    });
    const cluster: Cluster = { watch, stream, live: initial, all, spawn };
    await expectedMembers(cluster, ASSIGN_TIMEOUT_MS);
    await settle(stream, Math.round(plan.rate * LAG_FLOOR_SECONDS));
    const changes = await plan.steps(cluster);
    await stream.stopSending(FINAL_GRACE_MS);
    await terminateAll(cluster.live);
    const audit = await auditRun(context, topics, stream);
    const segments = stream.segments().slice(1);
    changes.forEach((entry, index) => {
      entry.latencyMs = segments[index]?.latencyMs ?? entry.latencyMs;
    });
    return {
      scenario: plan.scenario,
      mode: plan.mode,
      rate: plan.rate,
      settings: plan.settings,
      loadAverage: { start: startLoad, end: loadAverage() },
      seconds: stream.elapsedMs() / 1000,
      changes,
      audit,
      lag: stream.lagPoints
        .filter((_, index) => index % 10 === 0)
        .map(({ atMs, lag }) => ({ seconds: Math.round(atMs / 100) / 10, lag })),
      group: watch.changes.map((snapshot) => ({
        seconds: Math.round(toStream(cluster, snapshot.atMs) / 100) / 10,
        state: snapshot.state,
        members: snapshot.members.length,
      })),
      instanceErrors: all
        .filter((instance) => instance.errors.length > 0)
        .map((instance) => ({ instance: instance.name, errors: instance.errors.slice(0, 5) })),
    };
  } finally {
    await stream?.close();
    await watch.stop();
    await Promise.all(all.map((instance) => instance.kill()));
    await topics.remove();
  }
}

/** Every instance has stopped: the output holds all it ever will. */
async function auditRun(
  context: BenchContext,
  topics: ScaleTopics,
  stream: LiveStream,
): Promise<DeliveryAudit> {
  const admin = context.kafka.admin();
  await admin.connect();
  try {
    const [input, output] = await Promise.all([
      admin.fetchTopicOffsets(topics.input),
      admin.fetchTopicOffsets(topics.output),
    ]);
    const inputRecords = input.reduce((sum, { high, low }) => sum + Number(high) - Number(low), 0);
    const ends = new Map(output.map(({ partition, high }) => [partition, BigInt(high)]));
    return await stream.audit(ends, inputRecords, AUDIT_TIMEOUT_MS);
  } finally {
    await admin.disconnect();
  }
}

/** 1 instance; add a 2nd; add a 3rd; SIGTERM the oldest; SIGKILL the next oldest. */
export function membershipChanges(
  context: BenchContext,
  mode: DeliveryMode,
  rate: number,
  settings: InstanceSettings,
): Promise<MembershipRun> {
  return runScenario(context, {
    scenario: 'membership',
    mode,
    rate,
    tickMs: context.options.tickMs,
    settings,
    initial: 1,
    steps: async (cluster) => [
      await change(cluster, 'add'),
      await change(cluster, 'add'),
      await change(cluster, 'sigterm', cluster.live[0]),
      await change(cluster, 'sigkill', cluster.live[0]),
    ],
  });
}

/** 3 instances, the first `replacements` of them replaced one at a time, at-least-once (the default). */
export function rollingRestart(
  context: BenchContext,
  rate: number,
  replacements: number,
): Promise<MembershipRun> {
  return runScenario(context, {
    scenario: 'rolling',
    mode: 'at-least-once',
    rate,
    tickMs: context.options.tickMs,
    settings: {},
    initial: 3,
    steps: async (cluster) => {
      const changes: MembershipChange[] = [];
      for (let index = 0; index < replacements; index++) {
        changes.push(await change(cluster, 'replace', cluster.live[0]));
      }
      return changes;
    },
  });
}
