/**
 * A real outside consumer reads streamscore's comparison records: the Python peer
 * (scripts/peers/read_comparisons.py: confluent-kafka, that is librdkafka, and fastavro) runs as its own
 * process against the real broker, as a fraud team's analyst would run it. The topic holds comparisons built
 * with the routing encoder exactly as the service builds them, published plainly and in transactions, two
 * of them aborted (one the last thing in the topic, so the reader must find the end past its markers), and
 * one record that is not a comparison. Every field the peer printed must equal what was encoded, as avsc
 * decodes the same bytes; the timestamps print as epoch milliseconds, as on the wire.
 *
 * The peer's venv is made by `bash scripts/peers/setup.sh` (CI runs it); without it this file fails.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Message } from 'kafkajs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { packagePath } from '../../src/config/index.js';
import type { InputRecord, OutputRecord } from '../../src/kafka/index.js';
import {
  type ChallengerScores,
  type Comparison,
  createComparisonEncoder,
  loadComparisonCodec,
  ScoringStatus,
} from '../../src/routing/index.js';
import { connectedProducer, createTopics, testKafka, uniqueName } from '../support/kafka.js';
import { PEER_PYTHON, requirePeerVenv } from '../support/peers.js';

const { OK, TIMEOUT, ERROR, SHED } = ScoringStatus;
const PEER = packagePath('scripts/peers/read_comparisons.py');
const brokers = inject('kafkaBrokers');
const kafka = testKafka(brokers);
const topic = uniqueName('peer-comparisons');
const codec = loadComparisonCodec();
// Recent times with milliseconds, so a reader that rounds to seconds is caught.
const SECOND = Math.floor(Date.now() / 1_000) * 1_000;
const T1 = SECOND - 3_600_000 + 123;
const T2 = SECOND - 60_000 + 987;

type Labels = { negative: string; positive: string };
const model = (variant: string, name: string, version: string, threshold: number, labels: Labels) => ({
  variant,
  manifest: { name, version, sha256: `${name}@${version}`.padEnd(64, '0'), threshold, labels },
});
const fraud = { negative: 'legit', positive: 'fraud' };
const champion = model('primary', 'fraud-gbm', '1', 0.5, fraud);
const mlp = model('mlp', 'fraud-mlp', '2', 0.5, fraud);
const hgb = model('hgb', 'fraud-hgb', '1', 0.25, { negative: '0', positive: '1' });

interface Row {
  eventId: string;
  key: string | null;
  championScore: number;
  championStatus?: number;
}
type Shadow = [model: typeof mlp, rows: number[], scores: number[], statuses: number[], latencyMs: number];

/** One partition batch's comparisons as the pipeline encodes them, `time` as compared_time and timestamp. */
function batch(time: number, rows: Row[], ...shadows: Shadow[]): Message[] {
  const records: InputRecord[] = rows.map(({ key }, row) => ({
    key: key === null ? null : Buffer.from(key),
    value: null,
    offset: String(5_000_000_000 + row), // past 2^32: a long, not an int
    timestamp: String(time),
  }));
  const events = rows.map(({ eventId }, row) => ({ event_id: eventId, event_time: time - 1_000 * row - 7 }));
  const source = { topic: 'card-authorisations', partition: 7, records, events, comparedTime: time };
  const scored = {
    ...champion,
    scores: Float32Array.from(rows.map((row) => row.championScore)),
    statuses: Uint8Array.from(rows.map((row) => row.championStatus ?? OK)),
    latencyMs: 1.25,
  };
  const out: OutputRecord[] = [];
  const encoder = createComparisonEncoder();
  for (const [shadow, shadowRows, scores, statuses, latencyMs] of shadows) {
    const challenger: ChallengerScores = {
      ...shadow,
      rows: shadowRows,
      count: shadowRows.length,
      scores: Float32Array.from(scores),
      statuses: Uint8Array.from(statuses),
      latencyMs,
    };
    encoder.encodeComparisons(out, source, scored, challenger);
  }
  return out.map(({ key, value }) => ({ key, value, timestamp: String(time) }));
}

// Published plainly. mlp: row 0 agrees (both legit; 0.1 is not exact in float32, so all its digits
// count), row 1 is a champion-only positive, row 2 has no champion score, row 3 timed out.
const plainBatch = batch(
  T1,
  [
    { eventId: 'évènement-☃-0', key: 'account-ü-0', championScore: 0.1 },
    { eventId: 'event-1', key: 'account-1', championScore: 0.625 },
    { eventId: 'event-2', key: 'account-2', championScore: 0, championStatus: ERROR },
    { eventId: 'event-3', key: null, championScore: 0.75 },
  ],
  [mlp, [0, 1, 2, 3], [0.1, 0.375, 0.5, 0.875], [OK, OK, OK, TIMEOUT], Math.E],
);
// Committed in a transaction. hgb (threshold 0.25): row 0 a challenger-only positive, row 1 shed, row 2
// agrees; mlp: row 1 agrees (both fraud).
const committedBatch = batch(
  T2,
  [
    { eventId: 'event-4', key: 'account-4', championScore: 0.0625 },
    { eventId: 'event-5', key: 'account-5', championScore: 0.875 },
    { eventId: 'event-6', key: 'account-6', championScore: 0.3 },
  ],
  [hgb, [0, 1, 2], [0.3125, 0, 0.2], [OK, SHED, OK], 8],
  [mlp, [1], [0.9], [OK], 0.5],
);
const abortedRows = (prefix: string): Row[] =>
  Array.from({ length: 4 }, (_, row) => ({
    eventId: `aborted-${prefix}-${row}`,
    key: `account-${row}`,
    championScore: 0.5,
  }));
const abortedFirst = batch(T2, abortedRows('first'), [mlp, [0, 1, 2, 3], [0, 0, 1, 1], [OK, OK, OK, OK], 1]);
const abortedLast = batch(T2, abortedRows('last'), [hgb, [0, 1, 2, 3], [0, 0, 0, 0], [OK, OK, ERROR, OK], 1]);

/** What the peer must print, by event_id and challenger variant: the encoded bytes as avsc decodes them. */
const expected = new Map<string, { key: string | null; timestamp: number; comparison: Comparison }>();
for (const message of [...plainBatch, ...committedBatch]) {
  const comparison = codec.decode(message.value as Buffer);
  expected.set(`${comparison.event_id}/${comparison.challenger.variant}`, {
    key: message.key === null || message.key === undefined ? null : message.key.toString(),
    timestamp: Number(message.timestamp),
    comparison,
  });
}
const abortedIds = [...abortedFirst, ...abortedLast].map(
  ({ value }) => codec.decode(value as Buffer).event_id,
);

interface PeerLine {
  partition: number;
  offset: number;
  key: string | null;
  timestamp: number;
  comparison: Comparison;
}

const run = promisify(execFile);
async function peer(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(PEER_PYTHON, [PEER, '--bootstrap', brokers.join(','), ...args], {
    cwd: packagePath(''),
    timeout: 60_000,
  });
}
async function peerFailure(...args: string[]): Promise<{ code: number; stderr: string }> {
  return peer(...args).then(
    () => ({ code: 0, stderr: '' }),
    (error: { code: number; stderr: string }) => error,
  );
}

/** Every record the topic holds, aborted ones included, as a read_uncommitted consumer sees them. */
async function readUncommittedIds(count: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('uncommitted'), readUncommitted: true });
  const ids: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${ids.length} of ${count} records`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          try {
            ids.push(codec.decode(message.value as Buffer).event_id);
          } catch {
            ids.push('(not a comparison)');
          }
          if (ids.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return ids;
}

describe('a Python peer (confluent-kafka, fastavro) reading comparison records', () => {
  let lines: PeerLine[];
  let stderr: string;

  beforeAll(async () => {
    requirePeerVenv();
    await createTopics(kafka, [topic], 3);
    const producer = await connectedProducer(kafka);
    try {
      await producer.send({ topic, acks: -1, messages: plainBatch });
      await producer.send({
        topic,
        acks: -1,
        messages: [{ key: 'account-x', value: 'not avro', timestamp: String(T1) }],
      });
    } finally {
      await producer.disconnect();
    }
    // As in exactly-once mode: an aborted transaction, a committed one, and another aborted one last.
    const transactional = kafka.producer({
      transactionalId: uniqueName('peer-test'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await transactional.connect();
    try {
      for (const [messages, commit] of [
        [abortedFirst, false],
        [committedBatch, true],
        [abortedLast, false],
      ] as const) {
        const transaction = await transactional.transaction();
        await transaction.send({ topic, acks: -1, messages });
        await (commit ? transaction.commit() : transaction.abort());
      }
    } finally {
      await transactional.disconnect();
    }
    const output = await peer('--topic', topic);
    stderr = output.stderr;
    lines = output.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as PeerLine);
  });

  it('prints every committed comparison once, every field as encoded', () => {
    expect(lines).toHaveLength(expected.size);
    const printed = new Map(
      lines.map((line) => [`${line.comparison.event_id}/${line.comparison.challenger.variant}`, line]),
    );
    expect([...printed.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [id, { key, timestamp, comparison }] of expected) {
      const line = printed.get(id)!;
      expect({ id, key: line.key, timestamp: line.timestamp }).toEqual({ id, key, timestamp });
      expect(line.comparison).toEqual(comparison);
    }
  });

  it('gets the hard cases right: unicode, longs, float32 scores, nulls, enums, timestamps', () => {
    const find = (eventId: string, variant: string) =>
      lines.find(
        (line) => line.comparison.event_id === eventId && line.comparison.challenger.variant === variant,
      )!;
    const first = find('évènement-☃-0', 'mlp');
    expect(first.key).toBe('account-ü-0');
    expect(first.timestamp).toBe(T1);
    expect(first.comparison).toMatchObject({
      source_topic: 'card-authorisations',
      source_partition: 7,
      source_offset: 5_000_000_000,
      event_time: T1 - 7,
      compared_time: T1,
      agree: true,
      flip: 'NONE',
      score_diff: 0,
    });
    expect(first.comparison.champion).toEqual({
      variant: 'primary',
      model_name: 'fraud-gbm',
      model_version: '1',
      model_sha256: 'fraud-gbm@1'.padEnd(64, '0'),
      status: 'OK',
      score: Math.fround(0.1),
      label: 'legit',
      threshold: 0.5,
      latency_ms: 1.25,
    });
    expect(first.comparison.challenger).toMatchObject({ score: Math.fround(0.1), latency_ms: Math.E });
    expect(find('event-1', 'mlp').comparison).toMatchObject({ agree: false, flip: 'CHAMPION_ONLY_POSITIVE' });
    expect(find('event-2', 'mlp').comparison).toMatchObject({
      source_offset: 5_000_000_002,
      event_time: T1 - 2_007,
      champion: { status: 'ERROR', score: null, label: null, latency_ms: null },
      challenger: { status: 'OK', score: 0.5, label: 'fraud' },
      agree: null,
      flip: 'NONE',
      score_diff: null,
    });
    expect(find('event-3', 'mlp')).toMatchObject({
      key: null,
      comparison: { challenger: { status: 'TIMEOUT', score: null, label: null, latency_ms: null } },
    });
    expect(find('event-4', 'hgb').comparison).toMatchObject({
      challenger: { label: '1', threshold: 0.25 },
      agree: false,
      flip: 'CHALLENGER_ONLY_POSITIVE',
      score_diff: 0.3125 - 0.0625,
    });
    expect(find('event-5', 'hgb').comparison.challenger.status).toBe('SHED');
    expect(find('event-5', 'mlp').comparison).toMatchObject({ agree: true, compared_time: T2 });
  });

  it('skips the aborted transactions, which the topic does hold, and reads past their markers', async () => {
    const everything = await readUncommittedIds(expected.size + 1 + abortedIds.length);
    expect(everything).toEqual(expect.arrayContaining(abortedIds));
    const printedIds = lines.map((line) => line.comparison.event_id);
    expect(printedIds.filter((id) => id.startsWith('aborted-'))).toEqual([]);
  });

  it('names the record that is not a comparison on stderr and goes on', () => {
    expect(stderr).toMatch(/^partition \d offset \d+: not a comparison record, skipped$/m);
    expect(stderr.match(/not a comparison/g)).toHaveLength(1);
  });

  it('prints records of each partition in offset order', () => {
    for (const partition of new Set(lines.map((line) => line.partition))) {
      const offsets = lines.filter((line) => line.partition === partition).map((line) => line.offset);
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    }
  });

  it('summarizes per challenger variant: statuses, agreement among comparable records, flips', async () => {
    const { stdout } = await peer('--topic', topic, '--summary');
    expect(JSON.parse(stdout)).toEqual({
      records: 8,
      challengers: {
        hgb: {
          records: 3,
          status: { OK: 2, SHED: 1 },
          comparable: 2,
          agreement_rate: 0.5,
          flips: { CHALLENGER_ONLY_POSITIVE: 1 },
        },
        mlp: {
          records: 5,
          status: { OK: 4, TIMEOUT: 1 },
          comparable: 3,
          agreement_rate: 2 / 3,
          flips: { CHAMPION_ONLY_POSITIVE: 1 },
        },
      },
    });
  });

  it('names a missing topic (exit 2)', async () => {
    const missing = uniqueName('no-comparisons');
    const failure = await peerFailure('--topic', missing);
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain(`error: topic ${missing} does not exist`);
  });
});
