/**
 * The knobs of a benchmark run. `--quick` picks short durations for CI and a local check; any knob can
 * be set on its own with `--<name> value` (kebab-case) or `BENCH_<NAME>` (upper snake case), the flag
 * winning.
 */
import { parseArgs } from 'node:util';

export interface BenchOptions {
  quick: boolean;
  /** Profile only: serve the model with one shadow of itself (see lib/shadow.ts), to see where it costs. */
  shadow: boolean;
  /** Profile only: monitoring.alerts and monitoring.drift on, as `npm run bench:monitoring` measures them. */
  monitoring: boolean;
  brokers: string[];
  /** Model served by the service and used by the naive service and the onnxruntime layer. */
  model: string;
  partitions: number;
  /** Seconds of each latency run excluded from the histogram while JIT, fetch sizes and batches settle. */
  warmupSeconds: number;
  measureSeconds: number;
  /** The maximum-throughput search uses shorter steps: it only needs the trend of the lag. */
  searchWarmupSeconds: number;
  searchMeasureSeconds: number;
  searchSteps: number;
  /** Events published before a target starts, for the backlog-drain capacity test. */
  drainBacklog: number;
  drainTimeoutSeconds: number;
  brokerPerfRecords: number;
  /** Time spent on each case of the in-process layer benchmarks (Avro, onnxruntime). */
  microSeconds: number;
  /** The generator publishes what is due every tick; an event's latency includes its wait for the tick. */
  tickMs: number;
  /**
   * Soak: offered rate (events/s); 0 takes half the measured maximum from results/throughput.json.
   * Profile: above 0, the service is profiled at that steady load instead of draining a backlog.
   */
  rate: number;
  soakSeconds: number;
  sampleSeconds: number;
  /** Ramp only: offered rate through the warm-up and at the start of the ramp, events/s. */
  fromRate: number;
  /** Ramp only: offered rate at the end of the ramp, events/s. */
  toRate: number;
  /** Ramp only: how long the rate takes to climb from fromRate to toRate. */
  rampSeconds: number;
}

type NumericOption = {
  [K in keyof BenchOptions]: BenchOptions[K] extends number ? K : never;
}[keyof BenchOptions];

const FULL: Pick<BenchOptions, NumericOption> = {
  partitions: 3,
  warmupSeconds: 5,
  measureSeconds: 20,
  searchWarmupSeconds: 3,
  searchMeasureSeconds: 10,
  searchSteps: 5,
  drainBacklog: 200_000,
  drainTimeoutSeconds: 25,
  brokerPerfRecords: 500_000,
  microSeconds: 2,
  tickMs: 2,
  rate: 0,
  soakSeconds: 600,
  sampleSeconds: 10,
  fromRate: 2_000,
  // Above what the service keeps up with on a 2-core machine even briefly, so the ramp reaches its knee.
  toRate: 60_000,
  rampSeconds: 60,
};

const QUICK: Partial<Pick<BenchOptions, NumericOption>> = {
  warmupSeconds: 2,
  measureSeconds: 6,
  searchWarmupSeconds: 1,
  searchMeasureSeconds: 4,
  searchSteps: 3,
  drainBacklog: 40_000,
  drainTimeoutSeconds: 10,
  brokerPerfRecords: 100_000,
  microSeconds: 0.5,
  soakSeconds: 60,
  sampleSeconds: 5,
  rampSeconds: 20,
};

const kebab = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
const snake = (name: string) => name.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase();

export function parseBenchOptions(argv: string[] = process.argv.slice(2)): BenchOptions {
  const numericNames = Object.keys(FULL) as NumericOption[];
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      shadow: { type: 'boolean', default: false },
      monitoring: { type: 'boolean', default: false },
      model: { type: 'string' },
      ...Object.fromEntries(numericNames.map((name) => [kebab(name), { type: 'string' as const }])),
    },
  });
  const flags = values as Record<string, string | boolean | undefined>;
  const quick = flags.quick === true || process.env.BENCH_QUICK === 'true';
  const numbers = { ...FULL, ...(quick ? QUICK : {}) };
  for (const name of numericNames) {
    const raw = flags[kebab(name)] ?? process.env[`BENCH_${snake(name)}`];
    if (raw === undefined || typeof raw === 'boolean') continue;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0)
      throw new Error(`--${kebab(name)} needs a number ≥ 0, got ${raw}`);
    numbers[name] = value;
  }
  const model = flags.model;
  return {
    ...numbers,
    quick,
    shadow: flags.shadow === true || process.env.BENCH_SHADOW === 'true',
    monitoring: flags.monitoring === true || process.env.BENCH_MONITORING === 'true',
    brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((broker) => broker.trim()),
    model: typeof model === 'string' ? model : (process.env.BENCH_MODEL ?? 'fraud-mlp'),
  };
}
