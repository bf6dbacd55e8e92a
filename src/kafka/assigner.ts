/**
 * The input group's partition assignment: round-robin, like kafkajs's default, over the members whose
 * process has all its loops in the group. A process's loops join together, but the coordinator can still
 * complete a join before the last of them arrives (at once for a new group on a broker whose
 * `group.initial.rebalance.delay.ms` is 0, and whenever one loop's join is late on a busy machine). Round-robin
 * would then hand the early loops partitions that move again when the others arrive a moment later, and
 * each move re-delivers the batches in flight (at-least-once duplicates). Held back instead, the early loops
 * get nothing until their siblings' joins start the next rebalance, and a process takes its share once.
 *
 * Each member says which process it belongs to and how many loops that process runs, in its subscription's
 * user data. A member without it (another client in the group, an older streamscore) counts as a whole
 * process of one. Offered before kafkajs's RoundRobinAssigner, which a group of mixed versions agrees on.
 */
import { AssignerProtocol, type PartitionAssigner, PartitionAssigners } from 'kafkajs';
import type { Logger } from '../telemetry/index.js';

export const WHOLE_PROCESS_ASSIGNER = 'StreamscoreWholeProcess';
const VERSION = 0;

/** Which process a member belongs to, and how many members (loops) that process runs. */
export interface ProcessMembership {
  id: string;
  loops: number;
}

export interface AssignedMember {
  memberId: string;
  /** Undefined for a member that did not say. */
  process: ProcessMembership | undefined;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface WholeProcessAssignment {
  /** Topic → partitions, for every member (empty for those held back). */
  byMember: Map<string, Record<string, number[]>>;
  /** Processes not all of whose loops have joined yet. */
  incomplete: string[];
}

/** Partitions round-robin over the sorted ids of members whose whole process is present. */
export function assignWholeProcesses(
  members: readonly AssignedMember[],
  partitions: readonly TopicPartition[],
): WholeProcessAssignment {
  const present = new Map<string, number>();
  for (const { process } of members) if (process) present.set(process.id, (present.get(process.id) ?? 0) + 1);
  const whole = (process: ProcessMembership | undefined) =>
    !process || (present.get(process.id) ?? 0) >= process.loops;

  const byMember = new Map<string, Record<string, number[]>>();
  for (const { memberId } of members) byMember.set(memberId, {});
  const takers = members
    .filter((member) => whole(member.process))
    .map((member) => member.memberId)
    .sort();
  if (takers.length > 0) {
    partitions.forEach(({ topic, partition }, index) => {
      const assignment = byMember.get(takers[index % takers.length]!)!;
      assignment[topic] ??= [];
      assignment[topic].push(partition);
    });
  }
  const incomplete = new Set<string>();
  for (const { process } of members) if (process && !whole(process)) incomplete.add(process.id);
  return { byMember, incomplete: [...incomplete] };
}

function membershipOf(userData: Buffer | undefined): ProcessMembership | undefined {
  if (!userData || userData.length === 0) return undefined;
  try {
    const { id, loops } = JSON.parse(userData.toString('utf8')) as Partial<ProcessMembership>;
    return typeof id === 'string' && Number.isInteger(loops) && loops! > 0
      ? { id, loops: loops! }
      : undefined;
  } catch {
    return undefined;
  }
}

/** The assigners the input group's members offer, this one first. */
export function inputGroupAssigners(process: ProcessMembership, logger: Logger): PartitionAssigner[] {
  const userData = Buffer.from(JSON.stringify(process));
  const wholeProcess: PartitionAssigner = ({ cluster }) => ({
    name: WHOLE_PROCESS_ASSIGNER,
    version: VERSION,
    async assign({ members, topics }) {
      const assigned = members.map(({ memberId, memberMetadata }) => ({
        memberId,
        process: membershipOf(AssignerProtocol.MemberMetadata.decode(memberMetadata)?.userData),
      }));
      const partitions = topics.flatMap((topic) =>
        cluster
          .findTopicPartitionMetadata(topic)
          .map(({ partitionId }) => ({ topic, partition: partitionId })),
      );
      const { byMember, incomplete } = assignWholeProcesses(assigned, partitions);
      if (incomplete.length > 0)
        logger.info(
          { processes: incomplete },
          'partitions held back from processes whose loops are still joining',
        );
      return [...byMember].map(([memberId, assignment]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: VERSION,
          assignment,
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol: ({ topics }) => ({
      name: WHOLE_PROCESS_ASSIGNER,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: VERSION, topics, userData }),
    }),
  });
  return [wholeProcess, PartitionAssigners.roundRobin];
}
