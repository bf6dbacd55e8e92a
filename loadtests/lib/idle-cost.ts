/**
 * What a target costs with nothing to do: its group joined, no event in sight. An operator pays it for
 * every idle pod, and a client that polls or wakes for nothing shows up here before anywhere else (kafkajs
 * 2.2.4's request queues woke every thread with a Kafka client once a millisecond, scripts/
 * patch-kafkajs-request-queue.mjs).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createTopics, deleteTopics, uniqueName } from './broker.js';
import { type BenchContext, type TargetSetup, withTarget } from './scenarios.js';
import type { TargetKind } from './targets.js';

/**
 * Past the start's aftermath: once quiet, V8 collects what loading and joining left (a loops-auto service
 * here: 0.12 cores over one 3 s span 9-12 s after its group settled, 0.02 from 15 s on; ad hoc, 3 s samples
 * of /proc over 60 s).
 */
export const IDLE_SETTLE_SECONDS = 15;
export const IDLE_MEASURE_SECONDS = 15;

/** Cores the target's process used (every thread) over IDLE_MEASURE_SECONDS with no load. */
export async function idleCores(
  context: BenchContext,
  kind: TargetKind,
  setup: TargetSetup,
): Promise<number> {
  const inputTopic = uniqueName(`${kind}-idle-in`);
  const outputTopic = uniqueName(`${kind}-idle-out`);
  // The service refuses to start without its dead-letter topic.
  const topics = [inputTopic, `${inputTopic}.DLT`, outputTopic];
  await createTopics(context.kafka, topics, context.options.partitions);
  try {
    const { stats } = await withTarget(
      context,
      kind,
      inputTopic,
      outputTopic,
      async (target) => {
        await sleep(IDLE_SETTLE_SECONDS * 1000);
        target.mark();
        await sleep(IDLE_MEASURE_SECONDS * 1000);
      },
      setup,
    );
    return stats.coresUsed;
  } finally {
    await deleteTopics(context.kafka, topics);
  }
}
