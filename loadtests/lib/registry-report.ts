/**
 * The wire-format benchmark's part of BENCHMARKS.md: its row in the targets table and its own section, also
 * printed by loadtests/registry.ts at the end of a run. The figures are lib/registry-summary.ts's.
 */
import { drainRates, integer, micros, percent, rate, ratio, signedMicros, verdict } from './format.js';
import type { PathTiming, Ratios } from './path-timing.js';
import {
  ADDED_FIELD,
  DECODE_PATH_LABELS,
  DECODE_PATHS,
  type RegistryDecodeResult,
} from './registry-decode.js';
import {
  REGISTRY_GOALS,
  type RegistryResult,
  type RegistrySummary,
  sameExtraMicros,
  summarizeRegistry,
} from './registry-summary.js';
import { FORMAT_LABELS, RECORD_FORMATS } from './registry-wire.js';
import { median } from './rounds.js';
import type { RecordFormat } from './targets.js';

/** Per-record differences are hundredths of a microsecond. */
const signedFine = (value: number) => `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(3)} µs`;

export function registryTargetRow(result: RegistryResult): string {
  const summary = summarizeRegistry(result);
  const { avro, confluent } = summary;
  const draining =
    summary.drainRatio === null
      ? `draining a backlog: ${avro.unfinishedDrains + confluent.unfinishedDrains} of ${result.drains.length} drains did not catch up`
      : `${ratio(summary.drainRatio)} draining a backlog (${rate(confluent.medianDrainRate!)} vs ${rate(avro.medianDrainRate!)}, medians of ${result.rounds})`;
  const decode = `decode per record ${ratio(summary.decodeRatio.same)} the plain time with the same schema, ${ratio(summary.decodeRatio.resolved)} through a resolver`;
  return `| throughput, wire format / plain Avro | ${draining}; ${decode} | ≥ ${REGISTRY_GOALS.minThroughputRatio}× | ${verdict(summary.throughputMet)} |`;
}

/** "(0.990–1.043)": the range a median came from. */
const range = (values: readonly number[], digits: number) =>
  `(${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;

function decodeTable(decode: RegistryDecodeResult, summary: RegistrySummary): string[] {
  const row = (label: string, timing: PathTiming, ratioCell: string, goal = '', met = '') =>
    `| ${label} | ${timing.medianMicrosPerRecord.toFixed(3)} ${range(timing.microsPerRecord, 3)} | ${timing.medianWallMicrosPerRecord.toFixed(3)} | ${integer(timing.meanBytes)} B | ${ratioCell} | ${goal} | ${met} |`;
  const ratioCell = (ratios: Ratios) => `${ratio(ratios.median)} ${range(ratios.perRound, 2)}`;
  const lines = [
    `| per record, one thread | CPU µs per record: median (range of ${decode.rounds} rounds) | wall µs: median | record | × plain Avro: median of the rounds' ratios (range) | goal | verdict |`,
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const path of DECODE_PATHS) {
    const timing = decode.decode[path];
    // Files written before a path was added lack it.
    if (!timing) continue;
    const label = `decode, ${DECODE_PATH_LABELS[path]}`;
    if (path === 'plain') lines.push(row(label, timing, '1.00×'));
    else if (path === 'evolved') lines.push(row(label, timing, ratioCell(decode.decodeRatios[path])));
    else {
      const goal = `≤ ${REGISTRY_GOALS.maxDecodeRatio}×`;
      lines.push(
        row(label, timing, ratioCell(decode.decodeRatios[path]), goal, verdict(summary.decodeMet[path])),
      );
    }
  }
  lines.push(
    row('encode a prediction, plain Avro', decode.encode.plain, '1.00×'),
    row('encode a prediction, wire format', decode.encode.wire, ratioCell(decode.encodeRatio)),
  );
  return lines;
}

function drainTable(result: RegistryResult, summary: RegistrySummary): string[] {
  const cpu = (value: number | null) => (value === null ? 'n/a' : micros(value));
  const lines = [
    '| service, input and output in | drain rate: median (per round) | CPU per record: median | of which the main thread | cores used | wire / plain | goal | verdict |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const format of RECORD_FORMATS) {
    const own = summary[format];
    const drains = result.drains.filter((entry) => entry.format === format).map((entry) => entry.drain);
    lines.push(
      `| ${FORMAT_LABELS[format]} | ${drainRates(own.medianDrainRate, drains)} | ${cpu(own.medianCpuMicrosPerRecord)} | ${cpu(own.medianMainThreadCpuMicrosPerRecord)} | ${own.medianCoresUsed === null ? 'n/a' : own.medianCoresUsed.toFixed(2)} | ` +
        (format === 'confluent'
          ? `${summary.drainRatio === null ? 'n/a' : ratio(summary.drainRatio)} (per round ${summary.roundRatios.map((value) => value.toFixed(2)).join(', ')}) | ≥ ${REGISTRY_GOALS.minThroughputRatio}× | ${verdict(summary.throughputMet)} |`
          : ' | | |'),
    );
  }
  return lines;
}

/** How the resolved path's extra time divides between the added field's bytes and resolution itself. */
function resolverCost(decode: RegistryDecodeResult, resolvedExtra: number): string {
  const { plain, same, resolved, evolved } = decode.decode;
  const ownSchemaExtra = evolved.medianMicrosPerRecord - plain.medianMicrosPerRecord;
  const resolution = resolved.medianMicrosPerRecord - evolved.medianMicrosPerRecord;
  const bytes = integer(resolved.meanBytes - same.meanBytes);
  return (
    ` The same evolved records read with their own schema, no resolution, cost ${signedFine(ownSchemaExtra)}` +
    ` (${ratio(decode.decodeRatios.evolved.median)}), so resolution itself costs ${signedFine(resolution)} against that:` +
    (resolution <= 0
      ? ` none. The difference is the added field's ${bytes} bytes a record, which the resolver reads past without` +
        ' building a string for them, as reading with the writer schema does.'
      : resolution >= resolvedExtra / 2
        ? ` most of the difference is the resolver's own work, not the added field's ${bytes} bytes.`
        : ` most of the difference is the added field's ${bytes} bytes a record, which the resolver must read past.`)
  );
}

function findings(result: RegistryResult, summary: RegistrySummary): string[] {
  const { decode } = result;
  const sameExtra = sameExtraMicros(decode);
  const { plain, resolved, evolved } = decode.decode;
  const resolvedExtra = resolved.medianMicrosPerRecord - plain.medianMicrosPerRecord;
  const lines = [
    `- **Per record**, the wire format with the reader's own schema costs ${signedFine(sameExtra)} over plain Avro` +
      ` (${ratio(summary.decodeRatio.same)}): a 5-byte header read, one map look-up by schema id and a decode from` +
      ` offset 5 instead of 0; the Avro decoding is the same code.`,
    `- Through the resolver (a writer one field ahead) a record costs ${signedFine(resolvedExtra)} over plain Avro` +
      ` (${ratio(summary.decodeRatio.resolved)}).` +
      (evolved ? resolverCost(decode, resolvedExtra) : ''),
    `- Encoding a prediction in the wire format takes ${ratio(decode.encodeRatio.median)} the plain time.` +
      (decode.encodeRatio.median < 0.9
        ? " Here the plain encoder was avsc's toBuffer, which allocates a zero-filled buffer per record" +
          ' (Buffer.alloc), while the wire encoder copied out of a scratch buffer it keeps (Buffer.from, pooled);' +
          ' since 452c0e9 both formats share one encoder (createPrefixedEncoder, src/codec/avro.ts), which now writes' +
          ' into shared chunks and returns views of them.'
        : ' Both share one encoder (createPrefixedEncoder, src/codec/avro.ts), writing into shared chunks; the wire format adds a 5-byte prefix.'),
  ];
  if (summary.decodeShareOfService !== null) {
    lines.push(
      `- The decode difference is ${percent(summary.decodeShareOfService)} of the service's CPU per record in plain Avro` +
        ` (${micros(summary.avro.medianCpuMicrosPerRecord!)}): what the wire format can cost the service through decoding alone.`,
    );
  }
  if (summary.drainRatio !== null && summary.cpuDeltaMicros !== null) {
    const low = Math.min(...summary.roundRatios);
    const high = Math.max(...summary.roundRatios);
    const spread =
      summary.roundRatios.length > 1
        ? ` The rounds' own ratios (each wire-format drain over the plain one beside it) range ${low.toFixed(2)}–${high.toFixed(2)}, median ${median(summary.roundRatios).toFixed(2)}` +
          (low < REGISTRY_GOALS.minThroughputRatio && high > 1 / REGISTRY_GOALS.minThroughputRatio
            ? ': rounds on this shared machine differ by more than the goal allows either way, so the verdict rests on the medians, and the CPU per record is the steadier figure.'
            : '.')
        : '';
    lines.push(
      `- **Draining**, the wire-format service ran at ${ratio(summary.drainRatio)} the plain service's rate and used` +
        ` ${signedMicros(summary.cpuDeltaMicros)} of CPU per record (${ratio(summary.cpuRatio!)}).${spread}`,
    );
  }
  const wire = result.backlogs.find((backlog) => backlog.format === 'confluent');
  const wireDrains = result.drains.filter((entry) => entry.format === 'confluent');
  const ids = [...new Set(wireDrains.map((entry) => entry.outputSchemaId))];
  const plainWrongly = result.drains.filter(
    (entry) => entry.format === 'avro' && entry.outputSchemaId !== null,
  );
  if (wire) {
    lines.push(
      `- Checks: the wire-format backlog's writer schema (id ${wire.schemaId}, subject \`${wire.subject}\`) as the registry returns it` +
        ` ${wire.writerEqualsReader ? 'equals' : '**does not equal**'} the reader schema, so the service decoded it without a resolver;` +
        ` ${ids.every((id) => id !== null) ? `every wire-format drain published predictions in the wire format (schema ids ${ids.join(', ')}, registered by the service at start)` : '**a wire-format drain published plain predictions**'}` +
        `${plainWrongly.length > 0 ? '; **a plain drain published wire-format predictions**' : ', the plain drains plain ones'}.`,
    );
  }
  const stops = [...summary.avro.uncleanStops, ...summary.confluent.uncleanStops];
  if (stops.length > 0) {
    lines.push(`- ${stops.length} target process(es) ended uncleanly after reporting (${stops.join(', ')}).`);
  }
  return lines;
}

export function registryMarkdown(result: RegistryResult): string[] {
  const summary = summarizeRegistry(result);
  const { decode } = result;
  const backlog = result.drains[0]?.drain.backlog ?? 0;
  const loads = result.drains.map((entry) => entry.loadAverage);
  const bytes = (format: RecordFormat) =>
    result.backlogs.find((entry) => entry.format === format)?.meanValueBytes ?? 0;
  return [
    '## Wire format and schema registry',
    '',
    'The Confluent wire format (magic byte 0, the writer schema id in 4 bytes, the Avro datum) against plain Avro.' +
      ` Per record: one thread, no network; decode() of ${integer(decode.pool)} sample events, ${integer(decode.recordsPerRound)} records per` +
      ` round, ${decode.rounds} rounds with the paths taking turns, writer schemas from an in-memory WriterSchemas fetched` +
      " once in prepare() (as the service does once per new id); the resolved path's writer schema is the reader's plus" +
      ` \`${JSON.stringify(ADDED_FIELD.type)} ${ADDED_FIELD.name}\` (default null), the records carrying a value for it.`,
    '',
    ...decodeTable(decode, summary),
    '',
    `Draining: the full service (default settings, ${result.model}) drains a ${integer(backlog)}-event backlog, plain Avro in` +
      ` and out, or the wire format in and out with registry.urls set to a real schema registry (Apicurio Registry,` +
      ` its Confluent-compatible API at \`${result.registry.url}\`): the same events (${integer(bytes('avro'))} B plain,` +
      ` ${integer(bytes('confluent'))} B in the wire format), their schema registered under \`<topic>-value\`; the service` +
      ' fetches it at the first batch and registers its output schemas at start, both before the first prediction, where' +
      ` the measured span starts. ${result.rounds} round${result.rounds === 1 ? '' : 's'} of each format in alternating order;` +
      ' rate from the first prediction to the last, CPU per record the service process (all threads) over the same span.' +
      (loads.length > 0
        ? ` The machine's 1-minute load average at the start of the drains was ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} (2 cores, shared).`
        : ''),
    '',
    ...drainTable(result, summary),
    '',
    ...findings(result, summary),
    '',
  ];
}
