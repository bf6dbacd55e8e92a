/**
 * Code paths timed against each other on one thread (lib/registry-decode.ts). Each path has a loop of its
 * own, so each call site sees one implementation, and the paths take turns in every round (the order
 * rotating), so a slow stretch of this shared machine lands on all of them; the ratios are taken within a
 * round and their median reported. The clock is the process's CPU time (user + system, every thread, so the
 * garbage collector's helpers count): on two shared cores, wall time also counts the time the thread waited
 * for a core, which moved single rounds by 50% and more in trials; wall time is kept beside it.
 */
import { median } from './rounds.js';

export interface PathTiming {
  /** Microseconds of process CPU per record in each round. */
  microsPerRecord: number[];
  medianMicrosPerRecord: number;
  /** Microseconds of wall time per record in each round, and their median. */
  wallMicrosPerRecord: number[];
  medianWallMicrosPerRecord: number;
  /** Mean size of the records the path reads or writes, header included. */
  meanBytes: number;
}

/** Each round's µs per record over the base path's in the same round, and their median. */
export interface Ratios {
  perRound: number[];
  median: number;
}

/** A path's CPU and wall µs per record in each round, and what its loop returned. */
export interface Times {
  cpu: number[];
  wall: number[];
  checks: number[];
}

/** Paths taking turns; each loop processes the same number of records and returns a check value. */
export interface PathGroup<P extends string> {
  paths: readonly P[];
  loops: Record<P, () => number>;
  times: Record<P, Times>;
}

/** One `make(path)` for each path. */
export const perPath = <P extends string, T>(paths: readonly P[], make: (path: P) => T) =>
  Object.fromEntries(paths.map((path) => [path, make(path)])) as Record<P, T>;

export const pathGroup = <P extends string>(
  paths: readonly P[],
  loopOf: (path: P) => () => number,
): PathGroup<P> => ({
  paths,
  loops: perPath(paths, loopOf),
  times: perPath(paths, () => ({ cpu: [], wall: [], checks: [] })),
});

/** Every loop once, untimed, so V8 has optimised it before the clock starts. */
export function warmUp<P extends string>(group: PathGroup<P>): void {
  for (const path of group.paths) group.loops[path]();
}

/**
 * Round `round`: each loop once, timed, the order rotated by one place a round so each path takes each
 * place in turn. Returns each path's CPU µs per record in this round, for the terminal.
 */
export function timeRound<P extends string>(group: PathGroup<P>, round: number, records: number): string {
  const shift = round % group.paths.length;
  for (const path of [...group.paths.slice(shift), ...group.paths.slice(0, shift)]) {
    const times = group.times[path];
    const startedAt = performance.now();
    const cpuAtStart = process.cpuUsage();
    times.checks.push(group.loops[path]());
    const cpu = process.cpuUsage(cpuAtStart);
    times.wall.push(((performance.now() - startedAt) * 1000) / records);
    times.cpu.push((cpu.user + cpu.system) / records);
  }
  return group.paths.map((path) => `${path} ${group.times[path].cpu.at(-1)!.toFixed(3)}`).join(', ');
}

/** A path's figures; `records` are the records it reads or writes, for their mean size. */
export const pathTiming = (times: Times, records: readonly Buffer[]): PathTiming => ({
  microsPerRecord: times.cpu,
  medianMicrosPerRecord: median(times.cpu),
  wallMicrosPerRecord: times.wall,
  medianWallMicrosPerRecord: median(times.wall),
  meanBytes: records.reduce((sum, record) => sum + record.length, 0) / records.length,
});

export function ratiosTo(times: Times, base: Times): Ratios {
  const perRound = times.cpu.map((value, index) => value / base.cpu[index]!);
  return { perRound, median: median(perRound) };
}
