import { describe, expect, it } from 'vitest';
import type { LatencySummary } from '../../loadtests/lib/latency.js';
import {
  breakdownOf,
  createTimeline,
  type EventTimeline,
  ownedMeanMs,
  PIPE_SEGMENTS,
  SERVICE_SEGMENTS,
  summarise,
} from '../../loadtests/lib/low-latency-breakdown.js';
import {
  goalVerdicts,
  type LowLatencyResult,
  lowLatencyMarkdown,
  lowLatencyTargetRows,
} from '../../loadtests/lib/low-latency-report.js';
import { parseToolOutput, ToolOutputError, twoHops } from '../../loadtests/lib/low-latency-tool.js';

/** What EndToEndLatency 4.3.1 printed on the local broker: a sample every 1,000th record, then the summary. */
const TOOL_OUTPUT = [
  '0\t126.41924',
  '1000\t2.3069409999999997',
  '2000\t1.246267',
  'Avg latency: 3.3412 ms',
  'Percentiles: 50th = 1, 99th = 31, 99.9th = 149',
  '',
].join('\n');

describe('EndToEndLatency output', () => {
  it('reads the average and the percentiles, not the samples', () => {
    expect(parseToolOutput(TOOL_OUTPUT, 3000)).toEqual({
      records: 3000,
      meanMs: 3.3412,
      p50Ms: 1,
      p99Ms: 31,
      p999Ms: 149,
    });
  });

  it('refuses output without the summary, quoting its last line', () => {
    const output = 'Topic "t" does not exist. Will create topic with 1 partition(s)\n0\t126.4\n';
    expect(() => parseToolOutput(output, 10)).toThrow(ToolOutputError);
    expect(() => parseToolOutput(output, 10)).toThrow(/0\t126\.4$/);
  });

  it('doubles each percentile of a hop, read at the middle of its truncated millisecond', () => {
    expect(twoHops(parseToolOutput(TOOL_OUTPUT, 3000))).toEqual({ p50Ms: 3, p99Ms: 63, p999Ms: 299 });
  });
});

describe('segment summary', () => {
  it('gives the mean and nearest-rank percentiles of 1 to 100', () => {
    const values = Float64Array.from({ length: 100 }, (_, index) => 100 - index);
    expect(summarise(values)).toEqual({ meanMs: 50.5, p50Ms: 50, p99Ms: 99 });
  });

  it('summarises nothing as zeros', () => {
    expect(summarise(new Float64Array(0))).toEqual({ meanMs: 0, p50Ms: 0, p99Ms: 0 });
  });
});

/** Event i: scheduled at 10·i, then each instant `steps` later than the one before, in field order. */
function timelineOf(events: number, steps: Partial<Record<keyof EventTimeline, (event: number) => number>>) {
  const timeline = createTimeline(events);
  const order: (keyof EventTimeline)[] = [
    'scheduledAt',
    'sentAt',
    'inputAppendedAt',
    'fetchedAt',
    'scoredAt',
    'outputAppendedAt',
    'receivedAt',
  ];
  for (let event = 0; event < events; event++) {
    let at = 10 * event;
    for (const field of order) {
      at += steps[field]?.(event) ?? 0;
      timeline[field][event] = at;
    }
    timeline.inputObservedAt[event] = timeline.inputAppendedAt[event]! + 0.5;
  }
  return timeline;
}

describe('latency breakdown', () => {
  const steps = {
    sentAt: () => 1,
    inputAppendedAt: () => 0.5,
    fetchedAt: (event: number) => 2 + (event % 3),
    scoredAt: () => 1.5,
    outputAppendedAt: () => 1,
    receivedAt: () => 0.75,
  };

  it('splits each measured event along the service path, the means adding up to the end-to-end mean', () => {
    const breakdown = breakdownOf(timelineOf(12, steps), 3, SERVICE_SEGMENTS);
    expect(breakdown.events).toBe(9);
    const means = breakdown.segments.map((segment) => segment.summary.meanMs);
    expect(means).toEqual([1, 0.5, 3, 1.5, 1, 0.75]);
    expect(breakdown.endToEnd.meanMs).toBeCloseTo(
      means.reduce((sum, mean) => sum + mean),
      12,
    );
    expect(breakdown.idleConsumerFetch).toEqual({ meanMs: 0.5, p50Ms: 0.5, p99Ms: 0.5 });
  });

  it('leaves out events missing an instant the path needs', () => {
    const timeline = timelineOf(10, steps);
    timeline.fetchedAt[4] = Number.NaN;
    timeline.receivedAt[7] = Number.NaN;
    expect(breakdownOf(timeline, 0, SERVICE_SEGMENTS).events).toBe(8);
    // The bare pipe reports no scoring instants, so a missing fetch instant does not drop the event.
    expect(breakdownOf(timeline, 0, PIPE_SEGMENTS).events).toBe(9);
  });

  it('adds up the means by whose time they are', () => {
    const breakdown = breakdownOf(timelineOf(9, steps), 0, SERVICE_SEGMENTS);
    expect(ownedMeanMs(breakdown, 'harness')).toBeCloseTo(1.75, 12);
    expect(ownedMeanMs(breakdown, 'kafka')).toBeCloseTo(0.5, 12);
    expect(ownedMeanMs(breakdown, 'streamscore')).toBeCloseTo(5.5, 12);
  });
});

const latency = (p50: number, p99: number): LatencySummary => ({
  count: 20_000,
  p50,
  p90: p99,
  p99,
  p999: p99 * 2,
  max: p99 * 3,
  mean: p50,
});

describe('goals against the two-hop figures', () => {
  const twoHop = { p50Ms: 2, p99Ms: 24, p999Ms: 40 };

  it('holds p50 and p99 to twice the two-hop figures, inclusive', () => {
    expect(goalVerdicts(latency(4, 48), twoHop)).toEqual({
      p50Ratio: 2,
      p99Ratio: 2,
      p50Met: true,
      p99Met: true,
    });
    expect(goalVerdicts(latency(7.5, 30), twoHop)).toMatchObject({
      p50Ratio: 3.75,
      p50Met: false,
      p99Met: true,
    });
  });

  it('writes the verdicts and the breakdown into the section', () => {
    const timeline = timelineOf(20, {
      sentAt: () => 1,
      inputAppendedAt: () => 1,
      fetchedAt: () => 2,
      scoredAt: () => 1,
      outputAppendedAt: () => 1,
      receivedAt: () => 1,
    });
    const result: LowLatencyResult = {
      rate: 1000,
      warmupSeconds: 10,
      measureSeconds: 20,
      partitions: 3,
      idleMeasureSeconds: 10,
      loadAverage: 1.5,
      tool: {
        records: 10_000,
        meanMs: 1.4,
        p50Ms: 1,
        p99Ms: 12,
        p999Ms: 20,
        recordBytes: 100,
        brokerGcPauses: { count: 1, totalMs: 8, longestMs: 8 },
      },
      twoHop,
      runs: [
        {
          target: 'service-loops',
          loops: 'auto',
          latencyMs: latency(8.5, 31),
          latencyFromSendMs: latency(7.5, 30),
          receiveRate: 1000,
          unreceived: 0,
          coresUsed: 0.4,
          cpuMicrosPerRecord: 480,
          idleCoresUsed: 0.0123,
          brokerGcPauses: { count: 3, totalMs: 27, longestMs: 9.3 },
          goals: goalVerdicts(latency(7.5, 30), twoHop),
        },
        {
          target: 'bare-pipe',
          loops: undefined,
          latencyMs: latency(3, 20),
          receiveRate: 1000,
          unreceived: 0,
          goals: goalVerdicts(latency(3, 20), twoHop),
        },
      ],
      traces: [
        {
          target: 'service-loops',
          loops: 1,
          rate: 1000,
          warmupSeconds: 10,
          measureSeconds: 20,
          breakdown: breakdownOf(timeline, 0, SERVICE_SEGMENTS),
        },
      ],
    };
    const markdown = lowLatencyMarkdown(result);
    expect(markdown).toContain(
      '| full service, loops auto | 7.50 | 30.0 | 60.0 | 90.0 | 3.75× | 1.25× | **not met** | met | 0.40 | 480 µs | 0.012 | 3 (27.0 ms, longest 9.30) | 8.50 | 31.0 |',
    );
    expect(markdown).toContain("During the tool's run it paused 1 time, 8.00 ms in all.");
    expect(markdown).toContain('over 10 s with no load at all');
    // A result recorded before latency from the send call, CPU, idle CPU and the broker's pauses were
    // kept: judged, and shown, from the schedule.
    expect(markdown).toContain(
      '| bare kafkajs pipe | 3.00 | 20.0 | 40.0 | 60.0 | 1.50× | 0.83× | met | met | n/a | n/a | n/a | n/a | 3.00 | 20.0 |',
    );
    expect(lowLatencyTargetRows(result)[0]).toContain('p50 3.75× (7.50 ms vs 2.00)');
    expect(markdown).toContain('2 ms p50 and 24 ms p99');
    expect(markdown).toContain('**full service, input.loops 1** (20 events; of the mean 7.00 ms');
    expect(markdown).toContain(
      '| fetch → scored (decode, batcher wait, inference) | streamscore | 1.00 | 1.00 | 1.00 |',
    );
  });
});
