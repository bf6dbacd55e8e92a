/**
 * The consumer's shared offset commits (src/kafka/shared-commits.ts): which commits go out together, when
 * a handler may return, and who hears of a failure. The commit itself is a stand-in that records what it
 * was given; a real group's commits are test/integration/commit-behind.test.ts's and the fault suite's.
 */
import { describe, expect, it } from 'vitest';
import { createSharedCommits, type PartitionOffset } from '../../src/kafka/shared-commits.js';

/** Commits that wait for the test to acknowledge or fail them; `called` says which committer was used. */
function heldCommits() {
  const requests: { by: string; offsets: PartitionOffset[] }[] = [];
  const pending: { resolve(): void; reject(error: Error): void }[] = [];
  const committer = (by: string) => (offsets: PartitionOffset[]) =>
    new Promise<void>((resolve, reject) => {
      requests.push({ by, offsets });
      pending.push({ resolve, reject });
    });
  return { requests, pending, committer };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('shared offset commits', () => {
  it('commits every partition asked for in one turn in one request, through the first asker', async () => {
    const { requests, pending, committer } = heldCommits();
    const commits = createSharedCommits();
    const acknowledged: number[] = [];
    for (const partition of [2, 0, 1])
      void commits
        .commit(partition, String(10 * (partition + 1)), committer(`batch ${partition}`))
        .then(() => acknowledged.push(partition));
    expect(requests).toEqual([]);
    await commits.sent();
    expect(requests).toEqual([
      {
        by: 'batch 2',
        offsets: [
          { partition: 2, offset: '30' },
          { partition: 0, offset: '10' },
          { partition: 1, offset: '20' },
        ],
      },
    ]);
    expect(acknowledged).toEqual([]);
    pending[0]!.resolve();
    await turn();
    expect(acknowledged).toEqual([2, 0, 1]);
  });

  it('lets a handler return only once its commit has been called, not acknowledged', async () => {
    const { requests, committer } = heldCommits();
    const commits = createSharedCommits();
    await commits.sent();
    expect(requests).toHaveLength(0);
    void commits.commit(0, '5', committer('batch'));
    const sent = commits.sent();
    expect(requests).toHaveLength(0);
    await sent;
    expect(requests).toHaveLength(1);
  });

  it('sends commits of later turns in requests of their own', async () => {
    const { requests, pending, committer } = heldCommits();
    const commits = createSharedCommits();
    void commits.commit(0, '5', committer('first'));
    await commits.sent();
    void commits.commit(1, '7', committer('second'));
    await commits.sent();
    expect(requests.map(({ by, offsets }) => [by, offsets.length])).toEqual([
      ['first', 1],
      ['second', 1],
    ]);
    for (const request of pending) request.resolve();
  });

  it('commits the furthest offset of a partition asked for twice in one turn, for both', async () => {
    const { requests, pending, committer } = heldCommits();
    const commits = createSharedCommits();
    const both = [commits.commit(3, '900', committer('retry')), commits.commit(3, '1000', committer('next'))];
    await commits.sent();
    expect(requests[0]!.offsets).toEqual([{ partition: 3, offset: '1000' }]);
    pending[0]!.resolve();
    await expect(Promise.all(both)).resolves.toEqual([undefined, undefined]);
  });

  it('fails every commit of a request that failed, and commits again in the next', async () => {
    const { requests, pending, committer } = heldCommits();
    const commits = createSharedCommits();
    const failed = [commits.commit(0, '1', committer('a')), commits.commit(1, '2', committer('b'))];
    await commits.sent();
    const error = Object.assign(new Error('rebalancing'), { type: 'REBALANCE_IN_PROGRESS' });
    pending[0]!.reject(error);
    for (const commit of failed) await expect(commit).rejects.toBe(error);
    const retried = commits.commit(0, '1', committer('retry'));
    await commits.sent();
    pending[1]!.resolve();
    await expect(retried).resolves.toBeUndefined();
    expect(requests.map(({ by }) => by)).toEqual(['a', 'retry']);
  });

  it('fails the commits of a committer that throws before sending anything', async () => {
    const commits = createSharedCommits();
    const thrown = new Error('not connected');
    const commit = commits.commit(0, '1', () => {
      throw thrown;
    });
    await commits.sent();
    await expect(commit).rejects.toBe(thrown);
  });
});
