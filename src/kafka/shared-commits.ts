/**
 * One OffsetCommit request for the commits of every batch handled in the same turn of the event loop. A
 * shared send (shared-sends.ts) acknowledges the output of several partitions' batches at once, and each
 * of them then commits: one request instead of one per partition, and one append to __consumer_offsets
 * instead of several.
 *
 * A commit must carry the generation its batch was fetched in. kafkajs takes the generation when a commit
 * is called, and rejoins the group only once every handler of the last fetch has returned, so a handler
 * waits for `sent()` before it returns: its commit is called while it still runs, as an unshared one was.
 */
export interface PartitionOffset {
  partition: number;
  /** The next offset to read. */
  offset: string;
}

/** Commits offsets of partitions of the input topic in one request; resolves once acknowledged. */
export type CommitOffsets = (offsets: PartitionOffset[]) => Promise<void>;

export interface SharedCommits {
  /**
   * Commits `partition` up to `offset` with the other commits of this turn, through `commitOffsets` of
   * whichever of them asked first (every handler's reaches the same consumer). Resolves once acknowledged;
   * rejects with the failure of the shared request.
   */
  commit(partition: number, offset: string, commitOffsets: CommitOffsets): Promise<void>;
  /** Resolves once every commit asked for so far has been called, not acknowledged. */
  sent(): Promise<void>;
}

interface Waiting extends PartitionOffset {
  resolve(): void;
  reject(error: unknown): void;
}

export function createSharedCommits(): SharedCommits {
  let waiting: Waiting[] = [];
  // Resolves when the turn's request has been called; undefined while nothing waits.
  let flushed: Promise<void> | undefined;

  const send = (taken: readonly Waiting[], commitOffsets: CommitOffsets) => {
    // A partition's batches are handled one after another, so a second commit of a partition in one turn
    // (a retry of the last one's) can only be for an offset at or before the one that replaces it here.
    const latest = new Map<number, string>();
    for (const { partition, offset } of taken) {
      const current = latest.get(partition);
      if (current === undefined || BigInt(offset) > BigInt(current)) latest.set(partition, offset);
    }
    let request: Promise<void>;
    try {
      request = commitOffsets([...latest].map(([partition, offset]) => ({ partition, offset })));
    } catch (error) {
      request = Promise.reject(error);
    }
    for (const entry of taken) request.then(entry.resolve, entry.reject);
  };

  return {
    commit(partition, offset, commitOffsets) {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ partition, offset, resolve, reject });
        if (flushed) return;
        flushed = new Promise<void>((done) =>
          setImmediate(() => {
            const taken = waiting;
            waiting = [];
            flushed = undefined;
            send(taken, commitOffsets);
            done();
          }),
        );
      });
    },
    sent() {
      return flushed ?? Promise.resolve();
    },
  };
}
