/** What service instances spent over a measured window: CPU per record, cores, and who held what. */
import type { GroupMember } from './scale-group.js';
import type { ServiceInstance } from './scale-instances.js';

export interface InstanceUsage {
  /** CPU of all instances over the window, per record published in it. */
  cpuMicrosPerRecord: number;
  /** All instances' CPU time over the window's wall time: 1.0 is one core busy. */
  coresUsed: number;
  /** Each instance's share of that, in the group's member order. */
  coresPerInstance: number[];
  /** Input partitions per instance during the window. */
  assignment: GroupMember[];
}

/** Each instance's CPU so far, microseconds. */
export const cpuEach = (instances: readonly ServiceInstance[]) =>
  instances.map((instance) => instance.cpuMicros());

/** The instances' CPU between two readings of cpuEach, as cores and per record. */
export function usage(
  startCpu: readonly number[],
  endCpu: readonly number[],
  seconds: number,
  records: number,
  assignment: GroupMember[],
): InstanceUsage {
  const spent = endCpu.map((cpu, index) => cpu - startCpu[index]!);
  const total = spent.reduce((sum, micros) => sum + micros, 0);
  return {
    cpuMicrosPerRecord: records > 0 ? total / records : 0,
    coresUsed: seconds > 0 ? total / 1e6 / seconds : 0,
    coresPerInstance: spent.map((micros) => (seconds > 0 ? micros / 1e6 / seconds : 0)),
    assignment,
  };
}
