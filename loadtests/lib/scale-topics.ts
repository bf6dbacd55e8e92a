/** The topics and the group of one scale-out run, fresh each time and deleted after it. */
import type { Kafka } from 'kafkajs';
import { createTopics, deleteTopics, uniqueName } from './broker.js';

/** What an instance is started on. */
export interface InstanceTopics {
  brokers: readonly string[];
  input: string;
  output: string;
  groupId: string;
  model: string;
}

/** Input partitions of every scale-out run: six split evenly over one, two and three instances. */
export const SCALE_PARTITIONS = 6;

export interface ScaleTopics extends InstanceTopics {
  /** Deletes the run's topics, the group's deployments control topic among them. */
  remove(): Promise<void>;
}

/**
 * Fresh input, dead-letter (the service refuses to start without it) and output topics, all with
 * SCALE_PARTITIONS partitions, and a fresh group. The output has as many partitions as the input and
 * predictions keep their event's key, so output partition p holds the accounts of input partition p.
 */
export async function createScaleTopics(
  kafka: Kafka,
  brokers: readonly string[],
  model: string,
  scenario: string,
): Promise<ScaleTopics> {
  const input = uniqueName(`scale-${scenario}-in`);
  const output = uniqueName(`scale-${scenario}-out`);
  const groupId = uniqueName(`scale-${scenario}-group`);
  const created = [input, `${input}.DLT`, output];
  await createTopics(kafka, created, SCALE_PARTITIONS);
  return {
    brokers,
    input,
    output,
    groupId,
    model,
    // The service creates `<group>.deployments` when its group first starts.
    remove: () => deleteTopics(kafka, [...created, `${groupId}.deployments`]),
  };
}
