/**
 * Asking the cluster again while it settles (src/kafka/topics.ts): a busy KRaft broker answers a lookup on a
 * topic it has just created or taken the lead of with NOT_LEADER_OR_FOLLOWER or UNKNOWN_TOPIC_OR_PARTITION
 * for a moment, and kafkajs's admin gives up on the first. The errors here are kafkajs's own classes, built
 * as its protocol layer builds them; the real broker's side is test/integration/topics.test.ts's.
 */
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { untilClusterSettles } from '../../src/kafka/topics.js';

const { KafkaJSProtocolError, KafkaJSNonRetriableError } = kafkajs;

const notLeader = () =>
  new KafkaJSProtocolError(
    Object.assign(new Error('This server is not the leader for that topic-partition'), {
      type: 'NOT_LEADER_FOR_PARTITION',
      code: 6,
      retriable: true,
    }),
  );

/** Answers with each of `answers` in turn (an Error is thrown), counting the calls. */
function scripted<T>(answers: Array<T | Error | undefined>) {
  const ask = async () => {
    const answer = answers[Math.min(ask.calls++, answers.length - 1)];
    if (answer instanceof Error) throw answer;
    return answer;
  };
  ask.calls = 0;
  return ask;
}

describe('asking the cluster again while it settles', () => {
  it('asks again after a retriable error and resolves with the first answer', async () => {
    const ask = scripted([notLeader(), notLeader(), [{ partition: 0, low: '0', high: '0' }]]);
    await expect(untilClusterSettles(ask, 'offsets', 5_000)).resolves.toEqual([
      { partition: 0, low: '0', high: '0' },
    ]);
    expect(ask.calls).toBe(3);
  });

  it('asks again while the answer is "not yet"', async () => {
    const ask = scripted([undefined, undefined, true]);
    await expect(untilClusterSettles(ask, 'leaders', 5_000)).resolves.toBe(true);
    expect(ask.calls).toBe(3);
  });

  it('throws an error retrying cannot fix at once, as it is', async () => {
    const denied = new KafkaJSNonRetriableError(
      'Not authorized to access topics: [Topic authorization failed]',
    );
    const ask = scripted([denied, true]);
    await expect(untilClusterSettles(ask, 'offsets', 5_000)).rejects.toBe(denied);
    expect(ask.calls).toBe(1);
  });

  it('gives up at the deadline with KAFKA_UNAVAILABLE, naming what failed and keeping the last error', async () => {
    const ask = scripted<boolean>([notLeader()]);
    const failure = await untilClusterSettles(ask, 'the offsets of topic t cannot be read', 350).catch(
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({
      code: 'KAFKA_UNAVAILABLE',
      message: 'the offsets of topic t cannot be read after 350 ms',
      cause: { type: 'NOT_LEADER_FOR_PARTITION' },
    });
    expect(ask.calls).toBeGreaterThan(1);
  });
});
