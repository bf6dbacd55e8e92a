/**
 * One change of a group's membership under load, and what it cost the stream: the action (an instance
 * added, SIGTERMed, SIGKILLed, or replaced: SIGTERM to it and its replacement started at once), then the
 * wait until the group is Stable with the expected members and every partition assigned, then until the
 * lag has been back at its level for SETTLE_MS. The figures are lib/scale-changes.ts's, over the stream's
 * record of the step.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { LatencySummary } from './latency.js';
import { type GapFigures, gapFigures, type LagFigures, lagFigures, levelBefore } from './scale-changes.js';
import { assignedTo, type GroupSnapshot, type GroupWatch } from './scale-group.js';
import { type ServiceInstance, TERMINATE_TIMEOUT_MS } from './scale-instances.js';
import type { LiveStream } from './scale-stream.js';
import { SCALE_PARTITIONS } from './scale-topics.js';

export type ChangeKind = 'add' | 'sigterm' | 'sigkill' | 'replace';

export const CHANGE_LABELS: Record<ChangeKind, string> = {
  add: 'add an instance',
  sigterm: 'SIGTERM one (graceful)',
  sigkill: 'SIGKILL one',
  replace: 'replace one (SIGTERM + start)',
};

export interface MembershipChange extends LagFigures, GapFigures {
  kind: ChangeKind;
  instancesBefore: number;
  instancesAfter: number;
  /** Seconds since the stream started. */
  atSeconds: number;
  /** An added or replacing instance: from its spawn to its 'model loaded' line, after which it joins. */
  startupSeconds?: number;
  /** A stopped instance: from the signal to its exit, and how it exited. */
  stop?: { seconds: number; code: number | null; signal: string | null };
  /**
   * From the change reaching the group (the signal; an added instance starting to join) to the group Stable
   * with the expected members and every partition assigned; null when it was not within ASSIGN_TIMEOUT_MS.
   */
  assignedSeconds: number | null;
  /** Rebalances the change caused: the most generations an instance present throughout joined. */
  rebalances: number;
  /** The lag was back at its level for SETTLE_MS before the next change (false: the step timed out). */
  settled: boolean;
  /** Latency of the events due from this change to the next. */
  latencyMs: LatencySummary;
}

/** A SIGKILLed member is only removed after the session timeout (30 s by default), then the group rejoins. */
export const ASSIGN_TIMEOUT_MS = 90_000;
/** Long enough to tell a settled lag from a dip between two batches. */
const SETTLE_MS = 3_000;
/** A step whose lag is not back by then ends anyway, marked unsettled: the run must go on. */
const SETTLE_TIMEOUT_MS = 45_000;

/** The instances of a scenario, their group and the stream they serve. */
export interface Cluster {
  watch: GroupWatch;
  stream: LiveStream;
  /** Members now, oldest first. */
  live: ServiceInstance[];
  all: ServiceInstance[];
  spawn(): ServiceInstance;
}

export const toStream = (cluster: Cluster, atMs: number) => atMs - cluster.stream.t0;

export function expectedMembers(cluster: Cluster, timeoutMs: number): Promise<GroupSnapshot | undefined> {
  const clientIds = new Set(cluster.live.map((instance) => instance.clientId));
  return cluster.watch.waitFor((snapshot) => assignedTo(snapshot, clientIds, SCALE_PARTITIONS), timeoutMs);
}

/** Waits until the lag has stayed at or below `level` for SETTLE_MS; false past SETTLE_TIMEOUT_MS. */
export async function settle(stream: LiveStream, level: number): Promise<boolean> {
  const deadline = performance.now() + SETTLE_TIMEOUT_MS;
  let calmSince: number | undefined;
  while (performance.now() < deadline) {
    const now = performance.now();
    if (stream.lag() <= level) {
      calmSince ??= now;
      if (now - calmSince >= SETTLE_MS) return true;
    } else calmSince = undefined;
    await sleep(100);
  }
  return false;
}

export async function change(
  cluster: Cluster,
  kind: ChangeKind,
  target?: ServiceInstance,
): Promise<MembershipChange> {
  const { stream } = cluster;
  const instancesBefore = cluster.live.length;
  const present = cluster.live.filter((instance) => instance !== target);
  const actionAt = performance.now();
  const { recoveryLevel } = levelBefore(stream.lagPoints, toStream(cluster, actionAt), stream.rate);
  stream.startSegment(`${kind} ${cluster.all.length}`);
  const leaving =
    kind === 'sigkill' ? target!.kill() : target ? target.terminate(TERMINATE_TIMEOUT_MS) : undefined;
  const joining = kind === 'add' || kind === 'replace' ? cluster.spawn() : undefined;
  cluster.live = joining ? [...present, joining] : present;

  const assigned = await expectedMembers(cluster, ASSIGN_TIMEOUT_MS);
  const joinAt = joining ? await joining.when('model loaded') : actionAt;
  // A replacement's start-up is part of what a rolling restart costs; an added instance's is reported apart.
  const fromAt = kind === 'add' ? joinAt : actionAt;
  const exit = await leaving;
  const settled = assigned !== undefined && (await settle(stream, recoveryLevel));
  const endAt = performance.now();
  const window = {
    actionMs: toStream(cluster, actionAt),
    fromMs: toStream(cluster, fromAt),
    endMs: toStream(cluster, endAt),
    rate: stream.rate,
  };
  const joins = present.map(
    (instance) =>
      instance.events.filter(
        ({ msg, atMs }) => msg === 'joined consumer group' && atMs > actionAt && atMs <= endAt,
      ).length,
  );
  const figures: MembershipChange = {
    kind,
    instancesBefore,
    instancesAfter: cluster.live.length,
    atSeconds: window.actionMs / 1000,
    ...(joining ? { startupSeconds: (joinAt - joining.spawnedAtMs) / 1000 } : {}),
    ...(exit
      ? { stop: { seconds: (exit.atMs - actionAt) / 1000, code: exit.code, signal: exit.signal } }
      : {}),
    assignedSeconds: assigned ? (assigned.atMs - fromAt) / 1000 : null,
    rebalances: Math.max(0, ...joins),
    settled,
    // Filled in from the stream's segments once the run is over and every prediction is in.
    latencyMs: { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 },
    ...lagFigures(stream.lagPoints, window),
    ...gapFigures(stream.gaps(), window),
  };
  const recovered = figures.recoverySeconds === null ? 'not back' : `${figures.recoverySeconds.toFixed(1)} s`;
  process.stderr.write(
    `  ${CHANGE_LABELS[kind]} (${instancesBefore} → ${cluster.live.length}): all partitions assigned after ` +
      `${figures.assignedSeconds?.toFixed(1) ?? 'never'} s, ${figures.rebalances} rebalance(s), ` +
      `longest output gap ${figures.longestOutputGapMs.toFixed(0)} ms, peak lag ${figures.peakLag}, ` +
      `lag back after ${recovered}\n`,
  );
  return figures;
}
