import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { availableCores, cgroupCpuLimit } from '../../src/threads/index.js';

const files =
  (contents: Record<string, string>) =>
  (path: string): string | undefined =>
    contents[path];

describe('the cores a process may use', () => {
  it("reads cgroup v2's cpu.max as quota over period", () => {
    expect(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': '150000 100000\n' }))).toBe(1.5);
    expect(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' }))).toBeUndefined();
  });

  it("reads cgroup v1's CFS quota, where -1 means no limit", () => {
    const v1 = (quota: string) =>
      files({
        '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': quota,
        '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000',
      });
    expect(cgroupCpuLimit(v1('400000'))).toBe(4);
    expect(cgroupCpuLimit(v1('-1'))).toBeUndefined();
  });

  it('has no limit without either file', () => {
    expect(cgroupCpuLimit(files({}))).toBeUndefined();
  });

  it('rounds a limit down, keeps at least one core, and never exceeds the CPUs there are', () => {
    expect(availableCores(undefined)).toBe(availableParallelism());
    expect(availableCores(1.5)).toBe(1);
    expect(availableCores(0.25)).toBe(1);
    expect(availableCores(10_000)).toBe(availableParallelism());
  });
});
