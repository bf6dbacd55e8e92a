/**
 * The consumer group as the coordinator describes it, polled while instances come and go: its state, its
 * members and which input partitions each holds. A change of membership is over, for the benchmark, once
 * the group is Stable with the expected members and every partition assigned.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Admin, AssignerProtocol, type Kafka } from 'kafkajs';

export interface GroupMember {
  /** The instance's client id (`streamscore-<instance>`). */
  clientId: string;
  partitions: number[];
}

export interface GroupSnapshot {
  /** performance.now() of the poll. */
  atMs: number;
  state: string;
  members: GroupMember[];
}

export interface GroupWatch {
  current(): GroupSnapshot | undefined;
  /** Every poll whose state, members or assignment differed from the one before. */
  readonly changes: readonly GroupSnapshot[];
  /** The first poll from now on that passes `test`; undefined past `timeoutMs`. */
  waitFor(test: (snapshot: GroupSnapshot) => boolean, timeoutMs: number): Promise<GroupSnapshot | undefined>;
  stop(): Promise<void>;
}

/** Often enough to place a rebalance of a few seconds; each poll is one small request to the coordinator. */
export const GROUP_POLL_MS = 200;

/** Stable, with `members` members, and every one of `partitions` input partitions held by one of them. */
export function fullyAssigned(snapshot: GroupSnapshot, members: number, partitions: number): boolean {
  if (snapshot.state !== 'Stable' || snapshot.members.length !== members) return false;
  const held = new Set(snapshot.members.flatMap((member) => member.partitions));
  return held.size === partitions;
}

async function describe(admin: Admin, groupId: string, topic: string): Promise<GroupSnapshot> {
  const { groups } = await admin.describeGroups([groupId]);
  const group = groups[0];
  const members = (group?.members ?? []).map((member) => ({
    clientId: member.clientId,
    partitions: [
      ...((member.memberAssignment.length > 0
        ? AssignerProtocol.MemberAssignment.decode(member.memberAssignment)?.assignment[topic]
        : undefined) ?? []),
    ].sort((a, b) => a - b),
  }));
  members.sort((a, b) => a.clientId.localeCompare(b.clientId));
  return { atMs: performance.now(), state: group?.state ?? 'Unknown', members };
}

/** Stable, its members exactly the instances with these client ids, every input partition held. */
export function assignedTo(
  snapshot: GroupSnapshot,
  clientIds: ReadonlySet<string>,
  partitions: number,
): boolean {
  return (
    fullyAssigned(snapshot, clientIds.size, partitions) &&
    snapshot.members.every((member) => clientIds.has(member.clientId))
  );
}

const sameView = (a: GroupSnapshot, b: GroupSnapshot) =>
  a.state === b.state && JSON.stringify(a.members) === JSON.stringify(b.members);

export async function watchGroup(kafka: Kafka, groupId: string, topic: string): Promise<GroupWatch> {
  const admin = kafka.admin();
  await admin.connect();
  const changes: GroupSnapshot[] = [];
  const waiters = new Set<(snapshot: GroupSnapshot) => void>();
  let latest: GroupSnapshot | undefined;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const snapshot = await describe(admin, groupId, topic);
        if (!latest || !sameView(latest, snapshot)) changes.push(snapshot);
        latest = snapshot;
        for (const wake of waiters) wake(snapshot);
      } catch {
        // A coordinator busy with the rebalance may fail a describe; the next poll asks again.
      }
      await sleep(GROUP_POLL_MS);
    }
  })();
  return {
    current: () => latest,
    changes,
    waitFor(test, timeoutMs) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => finish(undefined), timeoutMs);
        const check = (snapshot: GroupSnapshot) => {
          if (test(snapshot)) finish(snapshot);
        };
        const finish = (snapshot: GroupSnapshot | undefined) => {
          clearTimeout(timer);
          waiters.delete(check);
          resolve(snapshot);
        };
        waiters.add(check);
      });
    },
    async stop() {
      stopped = true;
      await loop;
      await admin.disconnect();
    },
  };
}
