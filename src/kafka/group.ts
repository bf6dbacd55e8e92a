/**
 * This process's membership of the input topic's consumer group, and the loop that hands it batches.
 * Offsets are ours to move: kafkajs's auto-commit and auto-resolve are off. A batch's handler publishes its
 * output and commits its offsets (see delivery.ts), then says how it ended:
 * - delivered: the batch is resolved and the partition moves on;
 * - dropped: nothing is resolved, so the partition is fetched again from where it stood (or from where the
 *   handler sought it), and nothing is skipped;
 * - lost: the group coordinator no longer counts this member as the partition's owner; the member rejoins
 *   the group and starts over from the committed offsets of the partitions it is given.
 * A thrown error resolves nothing either: kafkajs fetches the batch again, and a crash re-delivers, from
 * the committed offsets, at most the batches that were in flight.
 */
import { randomUUID } from 'node:crypto';
import kafkajs, { AssignerProtocol, type Consumer, type EachBatchPayload } from 'kafkajs';
import type { Logger } from '../telemetry/index.js';
import { inputGroupAssigners, type ProcessMembership } from './assigner.js';
import { createKafkaClient, type KafkaSettings } from './client.js';
import type { InputRecord } from './records.js';
import { createSharedCommits } from './shared-commits.js';

export interface ConsumedBatch {
  topic: string;
  partition: number;
  records: readonly InputRecord[];
  firstOffset: string;
  /** Past the last record: control records of transactions end a batch too. */
  lastOffset: string;
  /** The partition's end offset at fetch time, for lag. */
  highWatermark: string;
  fetchedAt: number;
}

export type BatchOutcome = 'delivered' | 'dropped' | 'lost';

/**
 * Whether this member still owns a batch's partition: `superseded` when the member has rejoined the group
 * since the batch was fetched (the new generation fetches the partition afresh), `lost` when the group
 * coordinator says another member owns it, this member is gone, or the group is rebalancing.
 */
export type Ownership = 'owned' | 'superseded' | 'lost';

export interface BatchControl {
  /** True once the member rejoined the group, or the partition was sought, since the batch was fetched. */
  isStale(): boolean;
  /**
   * Commits the batch's partition up to `offset` (the next offset to read), in one request with the
   * commits other batches ask for in the same turn (shared-commits.ts). It goes through the batch's own
   * commit, which still works while the consumer is stopping; consumer.commitOffsets silently does nothing
   * then, and a SIGTERM would re-deliver the batch in flight.
   */
  commit(offset: string): Promise<void>;
  /** Asks the group coordinator, not this process's memory, whether the batch's partition is still ours. */
  ownership(): Promise<Ownership>;
  /** The group's committed offset for the batch's partition, as its coordinator has it now. */
  committedOffset(): Promise<bigint>;
  /** Makes the partition's next fetch start at `offset`. */
  seek(offset: bigint): void;
}

/** Tells the loop when the work behind it is too deep to fetch more, and when it has drained enough. */
export interface Backpressure {
  saturated(): boolean;
  relieved(): boolean;
  onChange?(paused: boolean): void;
}

/** The input section of the configuration names these; other fields of it are ignored. */
export interface GroupMemberOptions {
  groupId: string;
  topic: string;
  fromBeginning: boolean;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxBytesPerPartition: number;
  partitionsConsumedConcurrently: number;
  /**
   * The process this member is a loop of: a process takes partitions once all its loops have joined. By
   * default a process of its own, with one loop.
   */
  process?: ProcessMembership | undefined;
  /** The partitions of `topic` this member was given, after every join. */
  onAssigned?(partitions: readonly number[]): void;
  /** kafkajs crashed the consumer; `restarting` when it restarts it by itself. */
  onCrash?(error: Error, restarting: boolean): void;
}

export interface BatchLoop {
  backpressure?: Backpressure;
  handleBatch(batch: ConsumedBatch, control: BatchControl): Promise<BatchOutcome>;
}

export interface GroupMember {
  /** Joins the group and starts the batch loop; resolves once joined. */
  run(loop: BatchLoop): Promise<void>;
  /** Lets the batches in flight finish, then leaves the group. */
  disconnect(): Promise<void>;
}

// kafkajs's errors are spread into its CommonJS exports, which ES named imports cannot see.
const { KafkaJSError } = kafkajs;

/** The error kafkajs's consumer answers by rejoining the group (its isRebalancing check reads `type`). */
function rejoinError(topic: string, partition: number): Error {
  return Object.assign(
    new KafkaJSError(`partition ${topic}/${partition} is no longer this member's; rejoining the group`, {
      retriable: false,
    }),
    { type: 'REBALANCE_IN_PROGRESS' },
  );
}

export function createGroupMember(
  kafka: KafkaSettings,
  logger: Logger,
  options: GroupMemberOptions,
): GroupMember {
  const client = createKafkaClient(kafka, logger);
  // Set when leaving: kafkajs would otherwise restart a consumer whose join the disconnect interrupted.
  let leaving = false;
  const consumer: Consumer = client.consumer({
    groupId: options.groupId,
    allowAutoTopicCreation: false,
    sessionTimeout: options.sessionTimeoutMs,
    heartbeatInterval: options.heartbeatIntervalMs,
    maxBytesPerPartition: options.maxBytesPerPartition,
    partitionAssigners: inputGroupAssigners(options.process ?? { id: randomUUID(), loops: 1 }, logger),
    retry: { retries: 5, restartOnFailure: async () => !leaving },
  });
  const admin = client.admin();
  let adminConnected: Promise<void> | undefined;
  const { topic } = options;
  let memberId: string | undefined;
  // Counts joins: a batch fetched before the latest join belongs to a generation this member has left.
  let joins = 0;
  const commits = createSharedCommits();

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    memberId = payload.memberId;
    joins += 1;
    const partitions = payload.memberAssignment[topic] ?? [];
    logger.info({ memberId, assignment: payload.memberAssignment }, 'joined consumer group');
    options.onAssigned?.(partitions);
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!leaving) options.onCrash?.(payload.error, payload.restart);
  });

  const ownership = async (partition: number, joinedAt: number): Promise<Ownership> => {
    if (joins !== joinedAt) return 'superseded';
    const group = await consumer.describeGroup();
    if (joins !== joinedAt) return 'superseded';
    const member = group.members.find((candidate) => candidate.memberId === memberId);
    if (group.state !== 'Stable' || !member) return 'lost';
    const assignment = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
    return assignment?.assignment[topic]?.includes(partition) ? 'owned' : 'lost';
  };

  const committedOffset = async (partition: number): Promise<bigint> => {
    adminConnected ??= admin.connect();
    await adminConnected;
    const [committed] = await admin.fetchOffsets({ groupId: options.groupId, topics: [topic] });
    const offset = committed?.partitions.find((entry) => entry.partition === partition)?.offset ?? '-1';
    // -1: nothing committed yet; the partition starts at its beginning or end, not past anything.
    return BigInt(offset) < 0n ? -1n : BigInt(offset);
  };

  const batchControl = (payload: EachBatchPayload, joinedAt: number): BatchControl => {
    const { batch } = payload;
    return {
      isStale: () => joins !== joinedAt || payload.isStale(),
      commit: (offset) =>
        commits.commit(batch.partition, offset, (partitions) =>
          payload.commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions }] }),
        ),
      ownership: () => ownership(batch.partition, joinedAt),
      committedOffset: () => committedOffset(batch.partition),
      seek: (offset) =>
        consumer.seek({ topic: batch.topic, partition: batch.partition, offset: String(offset) }),
    };
  };

  const run = async ({ backpressure, handleBatch }: BatchLoop) => {
    let paused = false;
    // Pausing stops fetching for the topic while the batches already fetched finish; the batch whose
    // completion brings the queue below the low mark resumes it.
    const applyBackpressure = () => {
      if (!backpressure) return;
      if (!paused && backpressure.saturated()) {
        paused = true;
        consumer.pause([{ topic }]);
        backpressure.onChange?.(true);
      } else if (paused && backpressure.relieved()) {
        paused = false;
        consumer.resume([{ topic }]);
        backpressure.onChange?.(false);
      }
    };

    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: options.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently,
      eachBatch: async (payload) => {
        const { batch, isRunning, isStale, resolveOffset, heartbeat } = payload;
        if (batch.isEmpty() || !isRunning() || isStale()) return;
        const joinedAt = joins;
        const consumed: ConsumedBatch = {
          topic: batch.topic,
          partition: batch.partition,
          records: batch.messages,
          firstOffset: batch.firstOffset() ?? batch.lastOffset(),
          lastOffset: batch.lastOffset(),
          highWatermark: batch.highWatermark,
          fetchedAt: performance.now(),
        };
        const handled = handleBatch(consumed, batchControl(payload, joinedAt));
        applyBackpressure();
        let outcome: BatchOutcome;
        try {
          outcome = await handled;
        } catch (error) {
          // Leaving: the batch stays unresolved and uncommitted, and is no one's failure.
          if (leaving) return;
          throw error;
        } finally {
          applyBackpressure();
          // The commits this handler asked for take the generation it was fetched in (shared-commits.ts).
          await commits.sent();
        }
        if (outcome === 'lost') throw rejoinError(batch.topic, batch.partition);
        // A batch of a generation this member has left must not move the new generation's position.
        if (outcome === 'delivered' && joins === joinedAt) resolveOffset(batch.lastOffset());
        await heartbeat();
      },
    });
  };

  return {
    run,
    async disconnect() {
      leaving = true;
      await Promise.allSettled([consumer.disconnect(), adminConnected?.then(() => admin.disconnect())]);
    },
  };
}
