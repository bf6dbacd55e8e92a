/**
 * Starts a worker thread on one of streamscore's modules, from the built JavaScript or, in development and
 * tests, from the TypeScript sources: a worker does not inherit tsx's loader, so it registers tsx itself
 * before importing the module.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** `module` is the worker's entry as `new URL('./entry.js', import.meta.url)`; `.js` becomes `.ts` under tsx. */
export function startModuleWorker(module: URL, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  const fromSources = import.meta.url.endsWith('.ts');
  if (!fromSources) return new Worker(module, options);
  const entry = module.href.replace(/\.js$/, '.ts');
  const tsx = import.meta.resolve('tsx/esm/api');
  return new Worker(
    `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`,
    { ...options, eval: true },
  );
}

/**
 * CPU limit of this container as a number of cores, from cgroup v2's cpu.max or v1's CFS quota; undefined
 * without a limit. Kubernetes sets it from the pod's CPU limit, which os.availableParallelism() ignores.
 */
export function cgroupCpuLimit(read: (path: string) => string | undefined = readText): number | undefined {
  const v2 = read('/sys/fs/cgroup/cpu.max')?.trim().split(/\s+/);
  if (v2 && v2.length === 2) return v2[0] === 'max' ? undefined : Number(v2[0]) / Number(v2[1]);
  const quota = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'));
  const period = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us'));
  return quota > 0 && period > 0 ? quota / period : undefined;
}

/**
 * Cores this process may keep busy: the CPUs it may run on, capped by the container's CPU limit rounded
 * down (a loop more than the quota allows is throttled every period, which costs latency for nothing).
 */
export function availableCores(limit: number | undefined = cgroupCpuLimit()): number {
  const cpus = availableParallelism();
  return limit === undefined ? cpus : Math.max(1, Math.min(cpus, Math.floor(limit)));
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
