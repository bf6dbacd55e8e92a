/**
 * Where one event's milliseconds go between its scheduled send and its prediction reaching a reader, from
 * instants recorded per event (lib/low-latency-trace.ts). The segments telescope: their means add up to the
 * mean end-to-end latency exactly, so nothing is left unaccounted for, whatever the clocks' resolution.
 */

/** The instants of each event, epoch milliseconds on one machine's clock; NaN where not seen. */
export interface EventTimeline {
  /** When the schedule made the event due (the harness's latency starts here). */
  scheduledAt: Float64Array;
  /** When the generator handed it to kafkajs: the schedule's tick. */
  sentAt: Float64Array;
  /** The broker's append time of the input record (LogAppendTime, whole milliseconds, centred). */
  inputAppendedAt: Float64Array;
  /** When an idle kafkajs consumer of the input topic received it: the fetch a bare consumer pays. */
  inputObservedAt: Float64Array;
  /** When the service's batch holding it was fetched: scored_time − latency_ms (the service only). */
  fetchedAt: Float64Array;
  /** When its score was ready: scored_time (the service only). */
  scoredAt: Float64Array;
  /** The broker's append time of its output record. */
  outputAppendedAt: Float64Array;
  /** When the harness's reader received the output. */
  receivedAt: Float64Array;
}

export type TimelineField = keyof EventTimeline;

export function createTimeline(events: number): EventTimeline {
  const field = () => new Float64Array(events).fill(Number.NaN);
  return {
    scheduledAt: field(),
    sentAt: field(),
    inputAppendedAt: field(),
    inputObservedAt: field(),
    fetchedAt: field(),
    scoredAt: field(),
    outputAppendedAt: field(),
    receivedAt: field(),
  };
}

/** Who a segment's time belongs to: the load generator and reader, the broker round trips, or streamscore. */
export type SegmentOwner = 'harness' | 'kafka' | 'streamscore';

export interface SegmentDefinition {
  name: string;
  from: TimelineField;
  to: TimelineField;
  owner: SegmentOwner;
}

export interface SegmentSummary {
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
}

export interface BreakdownSegment extends SegmentDefinition {
  summary: SegmentSummary;
}

export interface LatencyBreakdown {
  /** Events of the measured window every instant of the path was recorded for. */
  events: number;
  endToEnd: SegmentSummary;
  segments: BreakdownSegment[];
  /** Input append → received by an idle kafkajs consumer: what fetching costs when nothing is in the way. */
  idleConsumerFetch: SegmentSummary;
}

const TICK: SegmentDefinition = {
  name: 'generator tick',
  from: 'scheduledAt',
  to: 'sentAt',
  owner: 'harness',
};
const PRODUCE_IN: SegmentDefinition = {
  name: 'produce → input append (acks=all)',
  from: 'sentAt',
  to: 'inputAppendedAt',
  owner: 'kafka',
};
const READ_OUT: SegmentDefinition = {
  name: 'output append → reader fetch',
  from: 'outputAppendedAt',
  to: 'receivedAt',
  owner: 'harness',
};

/** The service: its fetch, its scoring (decode, batcher wait, inference) and its produce, apart. */
export const SERVICE_SEGMENTS: readonly SegmentDefinition[] = [
  TICK,
  PRODUCE_IN,
  {
    name: 'input append → service fetch (waits for the batch cycle in flight)',
    from: 'inputAppendedAt',
    to: 'fetchedAt',
    owner: 'streamscore',
  },
  {
    name: 'fetch → scored (decode, batcher wait, inference)',
    from: 'fetchedAt',
    to: 'scoredAt',
    owner: 'streamscore',
  },
  {
    name: 'scored → output append (encode, produce)',
    from: 'scoredAt',
    to: 'outputAppendedAt',
    owner: 'streamscore',
  },
  READ_OUT,
];

/** A target that publishes no scoring instants (the bare pipe): fetch to output append in one segment. */
export const PIPE_SEGMENTS: readonly SegmentDefinition[] = [
  TICK,
  PRODUCE_IN,
  {
    name: 'input append → output append (fetch, republish)',
    from: 'inputAppendedAt',
    to: 'outputAppendedAt',
    owner: 'streamscore',
  },
  READ_OUT,
];

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank]!;
}

export function summarise(values: Float64Array): SegmentSummary {
  if (values.length === 0) return { meanMs: 0, p50Ms: 0, p99Ms: 0 };
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const value of sorted) sum += value;
  return { meanMs: sum / sorted.length, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99) };
}

/** Every instant a path needs: the segments' ends, and the end-to-end's. */
function fieldsOf(segments: readonly SegmentDefinition[]): TimelineField[] {
  const fields = new Set<TimelineField>(['scheduledAt', 'receivedAt']);
  for (const { from, to } of segments) fields.add(from).add(to);
  return [...fields];
}

/** `to` − `from` of the given events. */
function differences(
  timeline: EventTimeline,
  events: readonly number[],
  from: TimelineField,
  to: TimelineField,
): Float64Array {
  const values = new Float64Array(events.length);
  for (let index = 0; index < events.length; index++) {
    const event = events[index]!;
    values[index] = timeline[to][event]! - timeline[from][event]!;
  }
  return values;
}

/** The events from `firstMeasured` on that have every instant the path needs (or that `fields` names). */
function completeEvents(timeline: EventTimeline, firstMeasured: number, fields: readonly TimelineField[]) {
  const events: number[] = [];
  for (let event = firstMeasured; event < timeline.scheduledAt.length; event++) {
    if (fields.every((field) => !Number.isNaN(timeline[field][event]!))) events.push(event);
  }
  return events;
}

/** The breakdown of the measured events (sequence ≥ `firstMeasured`) along `segments`. */
export function breakdownOf(
  timeline: EventTimeline,
  firstMeasured: number,
  segments: readonly SegmentDefinition[],
): LatencyBreakdown {
  const events = completeEvents(timeline, firstMeasured, fieldsOf(segments));
  const observed = completeEvents(timeline, firstMeasured, ['inputAppendedAt', 'inputObservedAt']);
  return {
    events: events.length,
    endToEnd: summarise(differences(timeline, events, 'scheduledAt', 'receivedAt')),
    segments: segments.map((segment) => ({
      ...segment,
      summary: summarise(differences(timeline, events, segment.from, segment.to)),
    })),
    idleConsumerFetch: summarise(differences(timeline, observed, 'inputAppendedAt', 'inputObservedAt')),
  };
}

/** Mean milliseconds of the segments `owner` answers for. */
export const ownedMeanMs = (breakdown: LatencyBreakdown, owner: SegmentOwner) =>
  breakdown.segments
    .filter((segment) => segment.owner === owner)
    .reduce((sum, segment) => sum + segment.summary.meanMs, 0);
