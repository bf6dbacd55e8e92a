/** Timing loops for the in-process layer benchmarks. */

export interface Throughput {
  /** Units (records or rows) per second. */
  perSecond: number;
  /** Microseconds per unit. */
  microsPerUnit: number;
  units: number;
  seconds: number;
}

function throughput(units: number, startedAt: number): Throughput {
  const seconds = (performance.now() - startedAt) / 1000;
  return { perSecond: units / seconds, microsPerUnit: (seconds * 1e6) / units, units, seconds };
}

/** Calls `body` in rounds until `seconds` passed; `body` returns how many units it processed. */
export function timeSync(seconds: number, body: () => number): Throughput {
  // An untimed first round lets V8 optimise the body before the clock starts.
  body();
  const startedAt = performance.now();
  const endsAt = startedAt + seconds * 1000;
  let units = 0;
  while (performance.now() < endsAt) units += body();
  return throughput(units, startedAt);
}

export async function timeAsync(seconds: number, body: () => Promise<number>): Promise<Throughput> {
  await body();
  const startedAt = performance.now();
  const endsAt = startedAt + seconds * 1000;
  let units = 0;
  while (performance.now() < endsAt) units += await body();
  return throughput(units, startedAt);
}
