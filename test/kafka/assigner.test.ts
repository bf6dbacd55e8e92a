import { describe, expect, it } from 'vitest';
import { type AssignedMember, assignWholeProcesses } from '../../src/kafka/index.js';

const partitions = (count: number) =>
  Array.from({ length: count }, (_, partition) => ({ topic: 'events', partition }));

const loopOf = (memberId: string, id: string, loops: number): AssignedMember => ({
  memberId,
  process: { id, loops },
});

describe('whole-process assignment', () => {
  it('gives a process nothing until all its loops have joined, then shares round-robin', () => {
    const early = assignWholeProcesses([loopOf('m-a', 'p', 2)], partitions(3));
    expect(early.byMember.get('m-a')).toEqual({});
    expect(early.incomplete).toEqual(['p']);

    const whole = assignWholeProcesses([loopOf('m-b', 'p', 2), loopOf('m-a', 'p', 2)], partitions(3));
    expect(whole.byMember.get('m-a')).toEqual({ events: [0, 2] });
    expect(whole.byMember.get('m-b')).toEqual({ events: [1] });
    expect(whole.incomplete).toEqual([]);
  });

  it('lets whole processes keep every partition while another is still joining', () => {
    const { byMember, incomplete } = assignWholeProcesses(
      [loopOf('m-a', 'p', 1), loopOf('m-b', 'q', 2)],
      partitions(4),
    );
    expect(byMember.get('m-a')).toEqual({ events: [0, 1, 2, 3] });
    expect(byMember.get('m-b')).toEqual({});
    expect(incomplete).toEqual(['q']);
  });

  it('counts a member that did not say its process as a whole process of one', () => {
    const { byMember } = assignWholeProcesses(
      [{ memberId: 'other-client', process: undefined }, loopOf('m-b', 'q', 3), loopOf('m-c', 'q', 3)],
      partitions(2),
    );
    expect(byMember.get('other-client')).toEqual({ events: [0, 1] });
    expect(byMember.get('m-b')).toEqual({});
    expect(byMember.get('m-c')).toEqual({});
  });

  it('assigns nothing when no process is whole, and names each incomplete process once', () => {
    const { byMember, incomplete } = assignWholeProcesses(
      [loopOf('m-a', 'p', 2), loopOf('m-b', 'q', 2)],
      partitions(3),
    );
    expect([...byMember.values()]).toEqual([{}, {}]);
    expect(incomplete.sort()).toEqual(['p', 'q']);
  });

  it('spreads several topics over the whole processes in one round-robin', () => {
    const { byMember } = assignWholeProcesses(
      [loopOf('m-a', 'p', 2), loopOf('m-b', 'p', 2)],
      [...partitions(1), { topic: 'labels', partition: 0 }, { topic: 'labels', partition: 1 }],
    );
    expect(byMember.get('m-a')).toEqual({ events: [0], labels: [1] });
    expect(byMember.get('m-b')).toEqual({ labels: [0] });
  });
});
