/** Publishing sample events and reading predictions back: the tools around the service. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RecordDecoder, RecordEncoder } from '../codec/index.js';
import { type Follower, followTopic, type OutputRecord, type Publisher } from '../kafka/index.js';
import type { Prediction } from '../routing/index.js';
import type { CardTransaction } from '../sample/index.js';
import type { Runtime } from './runtime.js';

export interface ProduceOptions {
  topic: string;
  /** Stop after this many events; unbounded when absent. */
  count?: number | undefined;
  /** Events per second; as fast as the broker takes them when absent. */
  rate?: number | undefined;
  signal?: AbortSignal;
  /** Awaited after each published chunk, before the next is drawn. */
  onSent?: (events: readonly CardTransaction[]) => void | Promise<void>;
}

const TICK_MS = 100;
const UNPACED_CHUNK = 2_000;

/** Publishes events keyed by account, so one account's events stay in order on one partition. */
export async function produceEvents(
  publisher: Publisher,
  codec: RecordEncoder<CardTransaction>,
  events: Iterator<CardTransaction>,
  options: ProduceOptions,
): Promise<number> {
  const limit = options.count ?? Number.POSITIVE_INFINITY;
  const started = performance.now();
  let sent = 0;
  while (sent < limit && !options.signal?.aborted) {
    const due =
      options.rate === undefined
        ? sent + UNPACED_CHUNK
        : Math.floor(((performance.now() - started) / 1000) * options.rate);
    const size = Math.min(due, limit) - sent;
    if (size > 0) {
      const chunk: CardTransaction[] = [];
      const records: OutputRecord[] = [];
      for (let index = 0; index < size; index++) {
        const event = events.next().value as CardTransaction;
        chunk.push(event);
        records.push({ key: event.account_id, value: codec.encode(event) });
      }
      await publisher.publish(options.topic, records);
      sent += size;
      await options.onSent?.(chunk);
    }
    if (options.rate !== undefined)
      await sleep(TICK_MS, undefined, { signal: options.signal }).catch(() => undefined);
  }
  return sent;
}

export interface TailOptions {
  topic: string;
  fromBeginning: boolean;
  onPrediction: (prediction: Prediction, partition: number) => void;
}

/** Follows the output topic in a consumer group of its own, decoding each prediction. */
export function tailPredictions(
  { config, logger }: Runtime,
  codec: RecordDecoder<Prediction>,
  options: TailOptions,
): Promise<Follower> {
  return followTopic(config.kafka, logger, {
    topic: options.topic,
    fromBeginning: options.fromBeginning,
    beforeBatch: (records) => codec.prepare(records),
    onRecord: (record, partition) => options.onPrediction(codec.decode(record.value), partition),
  });
}

export function formatPrediction(prediction: Prediction): string {
  const time = new Date(prediction.event_time).toISOString();
  return [
    time,
    prediction.label.padEnd(6),
    prediction.score.toFixed(4),
    `${prediction.model_name}@${prediction.model_version}`,
    prediction.variant,
    prediction.event_id,
    `${prediction.latency_ms.toFixed(1)} ms`,
  ].join('  ');
}
