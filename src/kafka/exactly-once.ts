/**
 * Exactly-once delivery: a batch's output and its input offsets in one transaction of a producer that
 * belongs to the input partition (transactional id = group, topic, partition), so whoever owns the
 * partition next, in this process or another, fences the previous owner's producer before it can commit.
 *
 * kafkajs has no KIP-447 (offsets committed under the group's generation), so fencing alone does not stop a
 * zombie: an instance that was frozen past its session and resumes could initialise a producer of its own,
 * fencing the rightful owner, and commit stale work. Three rules keep that from happening:
 * - A producer is (re)initialised only after the group coordinator confirms this member owns the
 *   partition (BatchControl.ownership); otherwise the batch is dropped uncommitted.
 * - A transaction whose outcome is unknown (a timeout or a closed connection during EndTxn, a fenced
 *   producer) is never redone blindly: its producer is let go, and the next attempt's initialisation
 *   settles it (the coordinator completes or aborts whatever the transactional id left open), after which
 *   the group's committed offset says whether it committed.
 * - No transaction covers offsets the group has already committed: a batch that starts below the
 *   committed offset is not published again (the whole batch: it was delivered; part of it: the
 *   partition is read again from the committed offset). This also catches a consumer that fetched a
 *   committed offset while the previous owner's last transaction was still completing.
 */
import type { Kafka, Producer } from 'kafkajs';
import { createProducer } from './client.js';
import type { Delivery, DeliveryOptions } from './delivery.js';
import type { BatchOutcome } from './group.js';
import { compressionOf, nextOffset, outputRequests } from './output.js';
import { retryUntilDone } from './retry.js';

interface PartitionProducer {
  producer: Producer;
  connected: Promise<void>;
  /** The group's committed offset for the partition: read once after initialisation, then kept up to date. */
  committed: bigint | undefined;
}

export function createExactlyOnceDelivery(client: Kafka, options: DeliveryOptions): Delivery {
  const producers = new Map<number, PartitionProducer>();
  // One delivery at a time per partition: a batch of a generation this member left can still be in
  // flight when the new generation hands over the same partition.
  const queues = new Map<number, Promise<unknown>>();
  const compression = compressionOf(options.compression);

  const discard = async (partition: number) => {
    const entry = producers.get(partition);
    producers.delete(partition);
    await entry?.producer.disconnect().catch(() => undefined);
  };

  const inOrder = <T>(partition: number, work: () => Promise<T>): Promise<T> => {
    const next = (queues.get(partition) ?? Promise.resolve()).catch(() => undefined).then(work);
    queues.set(partition, next);
    const forget = () => {
      if (queues.get(partition) === next) queues.delete(partition);
    };
    next.then(forget, forget);
    return next;
  };

  const attempt: Delivery['deliver'] = async (batch, control) => {
    const { partition } = batch;
    let entry = producers.get(partition);
    if (!entry) {
      const ownership = await control.ownership();
      if (ownership !== 'owned') return ownership === 'lost' ? 'lost' : 'dropped';
      const producer = createProducer(client, `${options.groupId}.${options.inputTopic}.${partition}`);
      entry = { producer, connected: producer.connect(), committed: undefined };
      producers.set(partition, entry);
    }
    try {
      await entry.connected;
      // The first transaction of a producer initialises it (InitProducerId), which fences every earlier
      // producer of the id and settles the transaction it left open; only then is the committed offset final.
      const transaction = await entry.producer.transaction();
      entry.committed ??= await control.committedOffset();
      const end = nextOffset(batch.lastOffset);
      if (entry.committed >= end) {
        await transaction.abort();
        return 'delivered';
      }
      if (entry.committed > BigInt(batch.firstOffset)) {
        await transaction.abort();
        control.seek(entry.committed);
        return 'dropped';
      }
      for (const topicMessages of outputRequests(batch.output)) {
        await transaction.sendBatch({ topicMessages, acks: -1, compression });
      }
      // Revoked meanwhile: abort, so neither the output nor the offsets become visible.
      if (control.isStale()) {
        await transaction.abort();
        return 'dropped';
      }
      await transaction.sendOffsets({
        consumerGroupId: options.groupId,
        topics: [{ topic: options.inputTopic, partitions: [{ partition, offset: String(end) }] }],
      });
      await transaction.commit();
      entry.committed = end;
      return 'delivered';
    } catch (error) {
      await discard(partition);
      throw error;
    }
  };

  return {
    deliver(batch, control): Promise<BatchOutcome> {
      return inOrder(batch.partition, () => retryUntilDone(() => attempt(batch, control), options.retry));
    },
    async assigned(partitions) {
      const owned = new Set(partitions);
      await Promise.all([...producers.keys()].filter((partition) => !owned.has(partition)).map(discard));
    },
    // A transaction commits the offsets with the output, inside deliver.
    async settle() {},
    async close() {
      await Promise.all([...producers.keys()].map(discard));
    },
  };
}
