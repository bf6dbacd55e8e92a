import { describe, expect, it } from 'vitest';
import { type CpuProfile, IDLE, inclusiveTime } from '../../loadtests/lib/cpu-profile.js';

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });

/** root → handle → { countColumn → binOf, encode }; root → (idle). */
const PROFILE: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 6] },
    { id: 2, callFrame: frame('handle', 'file:///app/src/pipeline/scoring.ts'), children: [3, 5] },
    { id: 3, callFrame: frame('countColumn', 'file:///app/src/monitoring/bins.ts'), children: [4] },
    { id: 4, callFrame: frame('binOf', 'file:///app/src/monitoring/bins.ts') },
    { id: 5, callFrame: frame('encode', 'file:///app/node_modules/avsc/lib/types.js') },
    { id: 6, callFrame: frame(IDLE) },
  ],
  samples: [2, 3, 4, 4, 5, 6, 6],
  timeDeltas: [10, 20, 30, 40, 50, 1_000, 1_000],
};

describe('inclusiveTime', () => {
  it("counts a frame's callees with it and leaves idle samples out of the busy time", () => {
    const inBins = inclusiveTime(PROFILE, ({ callFrame }) => callFrame.url.endsWith('/monitoring/bins.ts'));
    expect(inBins).toEqual({ busyMicros: 150, withinMicros: 90 });
  });

  it('counts every busy sample below a frame that is on every stack', () => {
    const inHandle = inclusiveTime(PROFILE, ({ callFrame }) => callFrame.functionName === 'handle');
    expect(inHandle).toEqual({ busyMicros: 150, withinMicros: 150 });
  });
});
