/** The dead letters of a range counted by reason code and by the partition they came from. */
import type { InputRecord } from '../kafka/index.js';
import { type DeadLetterOrigin, readDeadLetter } from '../routing/index.js';
import { isoTime, type TimeRange } from './time-range.js';

export interface CodeTally {
  code: string;
  count: number;
  /** When the first and the last of them were dead-lettered (the dead letters' timestamps), ISO. */
  first: string;
  last: string;
  /** The message of the last of them: the error's words, never field values. */
  lastMessage: string | null;
}

export interface OriginTally {
  topic: string;
  partition: number;
  count: number;
}

export interface DeadLettersReport {
  topic: string;
  from: string | null;
  to: string | null;
  /** Dead letters read in the range. */
  records: number;
  /** Records in the range without the headers of a dead letter (not counted in any tally). */
  notDeadLetters: number;
  codes: CodeTally[];
  origins: OriginTally[];
}

interface CodeCount {
  code: string;
  count: number;
  firstMs: number;
  lastMs: number;
  lastMessage: string | null;
}

/** Counts dead letters by code and by where they came from, in the order first seen. */
export function createDeadLetterTally() {
  const codes = new Map<string, CodeCount>();
  const origins = new Map<string, OriginTally>();
  let records = 0;
  let notDeadLetters = 0;
  return {
    add(record: InputRecord): DeadLetterOrigin | null {
      const origin = readDeadLetter(record);
      if (!origin) {
        notDeadLetters += 1;
        return null;
      }
      records += 1;
      const at = Number(record.timestamp);
      const lastMessage = origin.message ?? null;
      const counted = codes.get(origin.code);
      if (!counted) {
        codes.set(origin.code, { code: origin.code, count: 1, firstMs: at, lastMs: at, lastMessage });
      } else {
        counted.count += 1;
        counted.firstMs = Math.min(counted.firstMs, at);
        if (at >= counted.lastMs) Object.assign(counted, { lastMs: at, lastMessage });
      }
      const key = `${origin.topic}/${origin.partition}`;
      const from = origins.get(key) ?? { topic: origin.topic, partition: origin.partition, count: 0 };
      from.count += 1;
      origins.set(key, from);
      return origin;
    },
    report(topic: string, range: TimeRange): DeadLettersReport {
      return {
        topic,
        from: isoTime(range.fromMs),
        to: isoTime(range.toMs),
        records,
        notDeadLetters,
        codes: [...codes.values()].map(({ code, count, firstMs, lastMs, lastMessage }) => ({
          code,
          count,
          first: new Date(firstMs).toISOString(),
          last: new Date(lastMs).toISOString(),
          lastMessage,
        })),
        origins: [...origins.values()],
      };
    },
  };
}
