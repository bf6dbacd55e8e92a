/**
 * Reading V8 CPU profiles (the inspector's Profiler.stop): self time by function or by the package or
 * source folder it lives in, so `bench:profile` and the shadow benchmark say where a main thread's time goes.
 */
import { packagePath } from '../../src/config/index.js';

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** What V8 reports for a sample outside JavaScript: the thread waiting for work. */
export const IDLE = '(idle)';

/** Where a function lives: the path under node_modules or the repository, or node's own modules. */
export function fileOf(url: string): string {
  const inModules = url.split('/node_modules/')[1];
  if (inModules) return inModules;
  const inRepository = url.split(packagePath(''))[1];
  if (inRepository) return inRepository;
  return url || '(native, GC, idle)';
}

/** node_modules/<package>, src/<folder>, node, or what V8 reports as native, GC and idle time. */
export function ownerOf(url: string): string {
  const file = fileOf(url);
  if (url.includes('/node_modules/')) {
    const [scope, name] = file.split('/');
    return scope!.startsWith('@') ? `${scope}/${name}` : scope!;
  }
  if (file.startsWith('node:')) return 'node';
  return file.includes('/') ? file.split('/').slice(0, 2).join('/') : file;
}

/**
 * ownerOf, with the frames that have no script told apart: idle, the garbage collector, and native
 * functions (socket writes, worker messages) by name, since those are where a second output stream shows.
 */
export function partOf({ callFrame }: ProfileNode): string {
  if (callFrame.url) return ownerOf(callFrame.url);
  const name = callFrame.functionName || '(program)';
  return name.startsWith('(') ? name : `native ${name}`;
}

export function functionOf({ callFrame }: ProfileNode): string {
  const where = callFrame.url ? ` ${fileOf(callFrame.url)}:${callFrame.lineNumber + 1}` : '';
  return `${callFrame.functionName || '(anonymous)'}${where}`;
}

/** Self time in microseconds by key, largest first. */
export function selfTimes(profile: CpuProfile, keyOf: (node: ProfileNode) => string): [string, number][] {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, index) => {
    const key = keyOf(nodes.get(id)!);
    totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  return [...totals].sort((a, b) => b[1] - a[1]);
}

/**
 * Busy time (every sample but idle) and the part of it spent in a frame `within` matches or below one: a
 * function's inclusive time, its callees counted, which is what it costs the thread.
 */
export function inclusiveTime(
  profile: CpuProfile,
  within: (node: ProfileNode) => boolean,
): { busyMicros: number; withinMicros: number } {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const inside = new Map<number, boolean>();
  const isInside = (id: number): boolean => {
    let found = inside.get(id);
    if (found === undefined) {
      const parent = parents.get(id);
      found = within(nodes.get(id)!) || (parent !== undefined && isInside(parent));
      inside.set(id, found);
    }
    return found;
  };
  let busyMicros = 0;
  let withinMicros = 0;
  profile.samples.forEach((id, index) => {
    if (nodes.get(id)!.callFrame.functionName === IDLE) return;
    const micros = profile.timeDeltas[index] ?? 0;
    busyMicros += micros;
    if (isInside(id)) withinMicros += micros;
  });
  return { busyMicros, withinMicros };
}
