/**
 * What one change of the group's membership cost the stream, from what the stream recorded
 * (lib/scale-stream.ts): the lag before it, its peak, how long until it was back at its level before the
 * change, and the longest silences of the output overall and on one output partition. An added instance
 * first starts (a process loading the model, on the cores the running ones use), then joins: its change
 * counts from the join, and the lag's peak while it started is given apart.
 */
import type { OutputGap } from './scale-output.js';
import { LAG_SAMPLE_MS, type LagPoint } from './scale-stream.js';

/** The lag before a change is the highest sampled over this long before it; its silences, the longest. */
export const BASELINE_MS = 2_000;
/**
 * A floor under that level, in seconds of offered traffic: lib/scenarios.ts's measure of a target that
 * keeps up (less than a second of traffic behind). A calm two seconds can leave a level that the ordinary
 * rhythm of batches crosses, and a group of more instances on the same two cores may settle at a higher
 * lag than fewer did; without the floor either would read as a change that never recovered. Above the
 * level, the lag is the backlog the change left; the last second of traffic under it drains in about a
 * second at the spare capacity these runs have.
 */
export const LAG_FLOOR_SECONDS = 1;

export interface ChangeWindow {
  /** The action (spawn, signal), milliseconds since the stream's t0. */
  actionMs: number;
  /** When the change reached the group: the action, or an added instance starting to join. */
  fromMs: number;
  /** The end of the step: the change had settled, or the step ran out of time. */
  endMs: number;
  rate: number;
}

export interface LagFigures {
  /** The highest lag over BASELINE_MS before the action. */
  lagBefore: number;
  /** The level the lag had to return to: lagBefore, or the floor if higher. */
  recoveryLevel: number;
  /** The highest lag from `fromMs` to the end of the step. */
  peakLag: number;
  /** Peak lag in seconds of offered traffic. */
  peakLagSeconds: number;
  /** The highest lag from the action to `fromMs`: while an added instance started; absent for the others. */
  startupPeakLag?: number;
  /**
   * From `fromMs` until the lag was back at its level for good (to the end of the step); 0 when it never
   * left it, null when it was still above it at the end.
   */
  recoverySeconds: number | null;
}

/** The highest lag over BASELINE_MS before `actionMs`, and the level to return to: that, or the floor. */
export function levelBefore(
  points: readonly LagPoint[],
  actionMs: number,
  rate: number,
): { lagBefore: number; recoveryLevel: number } {
  const before = points.filter(({ atMs }) => atMs >= actionMs - BASELINE_MS && atMs <= actionMs);
  const lagBefore = Math.max(0, ...before.map(({ lag }) => lag));
  return { lagBefore, recoveryLevel: Math.max(lagBefore, Math.round(rate * LAG_FLOOR_SECONDS)) };
}

export function lagFigures(points: readonly LagPoint[], window: ChangeWindow): LagFigures {
  const { lagBefore, recoveryLevel } = levelBefore(points, window.actionMs, window.rate);
  const during = points.filter(({ atMs }) => atMs >= window.fromMs && atMs <= window.endMs);
  const peakLag = Math.max(0, ...during.map(({ lag }) => lag));
  const last = during.at(-1);
  let recoverySeconds: number | null;
  if (last && last.lag > recoveryLevel) recoverySeconds = null;
  else {
    const lastAbove = during.findLast(({ lag }) => lag > recoveryLevel);
    // The lag was back by the next sample after the last one above the level.
    recoverySeconds = lastAbove ? (lastAbove.atMs + LAG_SAMPLE_MS - window.fromMs) / 1000 : 0;
  }
  const figures = {
    lagBefore,
    recoveryLevel,
    peakLag,
    peakLagSeconds: peakLag / window.rate,
    recoverySeconds,
  };
  if (window.fromMs === window.actionMs) return figures;
  const starting = points.filter(({ atMs }) => atMs >= window.actionMs && atMs < window.fromMs);
  return { ...figures, startupPeakLag: Math.max(0, ...starting.map(({ lag }) => lag)) };
}

export interface GapFigures {
  /** The longest time no prediction arrived at all, from `fromMs` to the end of the step. */
  longestOutputGapMs: number;
  /** The same over BASELINE_MS before the action: the stream's ordinary rhythm, to read the above against. */
  ordinaryOutputGapMs: number;
  /** The longest time one output partition received none, and which. */
  longestPartitionGapMs: number;
  partition: number | null;
}

/** `gaps` in milliseconds since the stream's t0, as `window`. */
export function gapFigures(gaps: readonly OutputGap[], window: ChangeWindow): GapFigures {
  let longestOutputGapMs = 0;
  let ordinaryOutputGapMs = 0;
  let longestPartitionGapMs = 0;
  let partition: number | null = null;
  for (const gap of gaps) {
    const length = gap.toMs - gap.fromMs;
    const before = gap.toMs >= window.actionMs - BASELINE_MS && gap.toMs < window.actionMs;
    if (gap.partition === -1 && before) ordinaryOutputGapMs = Math.max(ordinaryOutputGapMs, length);
    // Silences that ended after the change reached the group and began before the end of the step.
    if (gap.toMs < window.fromMs || gap.fromMs > window.endMs) continue;
    if (gap.partition === -1) longestOutputGapMs = Math.max(longestOutputGapMs, length);
    else if (length > longestPartitionGapMs) {
      longestPartitionGapMs = length;
      partition = gap.partition;
    }
  }
  return { longestOutputGapMs, ordinaryOutputGapMs, longestPartitionGapMs, partition };
}
