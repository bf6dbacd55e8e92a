/**
 * The wire-format benchmark's figures and verdicts, computed from the raw runs, so the report judges an
 * older results file by the current rules. Its part of BENCHMARKS.md is lib/registry-report.ts.
 */
import type { RegistryDecodeResult, WirePath } from './registry-decode.js';
import type { FormatBacklog, FormatDrain } from './registry-drain.js';
import { RECORD_FORMATS } from './registry-wire.js';
import { drainMedians } from './rounds.js';
import type { RecordFormat } from './targets.js';

/** The goal: the wire format at most 5% slower than plain Avro, per record and draining. */
export const REGISTRY_GOALS = { maxDecodeRatio: 1.05, minThroughputRatio: 0.95 } as const;

export interface RegistryResult {
  model: string;
  /** The registry's Confluent-compatible base URL, and whether the run started it. */
  registry: { url: string; startedHere: boolean };
  decode: RegistryDecodeResult;
  rounds: number;
  backlogs: FormatBacklog[];
  drains: FormatDrain[];
}

export interface FormatSummary {
  format: RecordFormat;
  /** Rates of the drains that caught up, in round order. */
  drainRates: number[];
  /** Median over the drains that caught up; null when none did. */
  medianDrainRate: number | null;
  medianCpuMicrosPerRecord: number | null;
  medianMainThreadCpuMicrosPerRecord: number | null;
  medianCoresUsed: number | null;
  unfinishedDrains: number;
  uncleanStops: string[];
}

export interface RegistrySummary {
  avro: FormatSummary;
  confluent: FormatSummary;
  /** Median wire-format drain rate over plain Avro's; null unless every drain caught up. */
  drainRatio: number | null;
  /** Each round's wire-format rate over plain Avro's in the same round. */
  roundRatios: number[];
  /** Wire-format CPU per record over plain Avro's (medians); and the difference. */
  cpuRatio: number | null;
  cpuDeltaMicros: number | null;
  decodeRatio: { same: number; resolved: number };
  /** What the 'same' path adds per record, over plain Avro's CPU per record in the service. */
  decodeShareOfService: number | null;
  throughputMet: boolean | undefined;
  decodeMet: Record<WirePath, boolean>;
}

function formatSummary(drains: readonly FormatDrain[], format: RecordFormat): FormatSummary {
  const own = drains.filter((entry) => entry.format === format);
  const done = own.filter((entry) => entry.drain.completed).map((entry) => entry.drain);
  return {
    format,
    ...drainMedians(done),
    unfinishedDrains: own.length - done.length,
    uncleanStops: own
      .map((entry) => entry.drain.stats.uncleanStop)
      .filter((ending): ending is string => ending !== undefined),
  };
}

/** The 'same' path's CPU per record over plain Avro's, in microseconds. */
export const sameExtraMicros = (decode: RegistryDecodeResult) =>
  decode.decode.same.medianMicrosPerRecord - decode.decode.plain.medianMicrosPerRecord;

export function summarizeRegistry({
  decode,
  drains,
}: Pick<RegistryResult, 'decode' | 'drains'>): RegistrySummary {
  const avro = formatSummary(drains, 'avro');
  const confluent = formatSummary(drains, 'confluent');
  const everyDrainFinished = avro.unfinishedDrains === 0 && confluent.unfinishedDrains === 0;
  const drainRatio =
    everyDrainFinished && avro.medianDrainRate && confluent.medianDrainRate !== null
      ? confluent.medianDrainRate / avro.medianDrainRate
      : null;
  const rounds = [...new Set(drains.map((entry) => entry.round))].sort((a, b) => a - b);
  const roundRatios = rounds.flatMap((round) => {
    const [plain, wire] = RECORD_FORMATS.map((format) =>
      drains.find((entry) => entry.round === round && entry.format === format && entry.drain.completed),
    );
    return plain && wire ? [wire.drain.rate / plain.drain.rate] : [];
  });
  const cpu = { avro: avro.medianCpuMicrosPerRecord, confluent: confluent.medianCpuMicrosPerRecord };
  const bothCpu = everyDrainFinished && cpu.avro !== null && cpu.confluent !== null;
  const decodeRatio = {
    same: decode.decodeRatios.same.median,
    resolved: decode.decodeRatios.resolved.median,
  };
  return {
    avro,
    confluent,
    drainRatio,
    roundRatios,
    cpuRatio: bothCpu ? cpu.confluent! / cpu.avro! : null,
    cpuDeltaMicros: bothCpu ? cpu.confluent! - cpu.avro! : null,
    decodeRatio,
    decodeShareOfService: cpu.avro ? sameExtraMicros(decode) / cpu.avro : null,
    // A drain that did not catch up has no rate: the verdict is then "not met", a stall being worse than slow.
    throughputMet:
      drains.length === 0
        ? undefined
        : drainRatio !== null && drainRatio >= REGISTRY_GOALS.minThroughputRatio,
    decodeMet: {
      same: decodeRatio.same <= REGISTRY_GOALS.maxDecodeRatio,
      resolved: decodeRatio.resolved <= REGISTRY_GOALS.maxDecodeRatio,
    },
  };
}
