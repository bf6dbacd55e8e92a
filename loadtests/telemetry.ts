/**
 * `npm run bench:telemetry`: what tracing and metrics cost. The full service drains the same kind of
 * backlog with OpenTelemetry off, on at sampling 0.1 and on at sampling 1.0, in alternating rounds of one
 * run, exporting spans over OTLP/HTTP to a sink in this process while /metrics is scraped every second.
 * Every input record carries a producer's traceparent, sampled at the same ratio as the service, as it
 * would be in a traced system. Writes loadtests/results/telemetry.json and regenerates BENCHMARKS.md.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IHeaders } from 'kafkajs';
import { createTopics, deleteTopics, ensureBroker, harnessKafka, uniqueName } from './lib/broker.js';
import { createEventSource } from './lib/events.js';
import { parseBenchOptions } from './lib/options.js';
import { writeResult } from './lib/results.js';
import { type BenchContext, type DrainRun, drainCapacity, publishBacklog } from './lib/scenarios.js';
import { generateReport } from './report.js';

interface Mode {
  label: string;
  /** Undefined: OpenTelemetry off. */
  sampling: number | undefined;
}

const MODES: readonly Mode[] = [
  { label: 'off', sampling: undefined },
  { label: 'sampling 0.1', sampling: 0.1 },
  { label: 'sampling 1.0', sampling: 1 },
];
const SCRAPE_INTERVAL_MS = 1_000;
const TARGET_COST_AT_TENTH = 0.1;

/** A producer's traceparent for event `sequence`, sampled for `sampling` of the events. */
function producerTraceparent(sequence: number, sampling: number): IHeaders {
  const traceId = `5eed${sequence.toString(16).padStart(28, '0')}`;
  const spanId = `00${sequence.toString(16).padStart(14, '0')}`;
  const sampled = sequence % Math.round(1 / sampling) === 0;
  return { traceparent: `00-${traceId}-${spanId}-${sampled ? '01' : '00'}` };
}

/** An OTLP/HTTP endpoint that accepts and discards, counting what it was sent. */
async function startSpanSink() {
  const received = { requests: 0, bytes: 0 };
  const server = createServer((request, response) => {
    request.on('data', (chunk: Buffer) => {
      received.bytes += chunk.length;
    });
    request.on('end', () => {
      received.requests += 1;
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface ModeRun {
  mode: string;
  sampling: number | null;
  round: number;
  rate: number;
  cpuMicrosPerOutput: number;
  eventLoopUtilization: number;
  exportRequests: number;
  exportedBytes: number;
  drain: DrainRun;
}

const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

function summarize(runs: readonly ModeRun[]) {
  const off = mean(runs.filter((run) => run.sampling === null).map((run) => run.rate));
  return MODES.map(({ label, sampling }) => {
    const own = runs.filter((run) => run.mode === label);
    const rate = mean(own.map((run) => run.rate));
    return {
      mode: label,
      sampling: sampling ?? null,
      rates: own.map((run) => Math.round(run.rate)),
      meanRate: Math.round(rate),
      ratioToOff: rate / off,
      cost: 1 - rate / off,
      cpuMicrosPerOutput: mean(own.map((run) => run.cpuMicrosPerOutput)),
      exportedBytesPerRecord: mean(own.map((run) => run.exportedBytes / run.drain.backlog)),
    };
  });
}

function markdown(summary: ReturnType<typeof summarize>, backlog: number, rounds: number): string {
  const tenth = summary.find((row) => row.sampling === 0.1)!;
  return [
    '## Cost of tracing and metrics',
    '',
    `The full service drains ${backlog.toLocaleString('en-US')} events per run, ${rounds} rounds of each mode in`,
    'alternating order, spans exported over OTLP/HTTP (protobuf) to a local sink, /metrics scraped every',
    'second. Every input record carries a producer traceparent sampled at the same ratio as the service.',
    '',
    '| mode | drain rate per round (events/s) | mean | × off | CPU µs per record | OTLP bytes per record |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...summary.map(
      (row) =>
        `| ${row.mode} | ${row.rates.join(', ')} | ${row.meanRate} | ${row.ratioToOff.toFixed(2)} | ` +
        `${row.cpuMicrosPerOutput.toFixed(1)} | ${row.exportedBytesPerRecord.toFixed(0)} |`,
    ),
    '',
    `Target: under ${TARGET_COST_AT_TENTH * 100}% cost at sampling 0.1. Measured: ${(tenth.cost * 100).toFixed(1)}%, ` +
      `**${tenth.cost < TARGET_COST_AT_TENTH ? 'met' : 'not met'}**.`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const options = parseBenchOptions();
  const rounds = options.quick ? 1 : 3;
  const stopBroker = await ensureBroker(options.brokers);
  const kafka = harnessKafka(options.brokers);
  const context: BenchContext = { options, kafka };
  const sink = await startSpanSink();
  const backlogs = new Map<number, string>();
  const runs: ModeRun[] = [];
  try {
    for (const sampling of [0.1, 1]) {
      const topic = uniqueName(`telemetry-backlog-${sampling}`);
      await createTopics(kafka, [topic, `${topic}.DLT`], options.partitions);
      await publishBacklog(kafka, topic, createEventSource('unique'), options.drainBacklog, {
        headers: (sequence) => producerTraceparent(sequence, sampling),
      });
      backlogs.set(sampling, topic);
    }
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 === 1 ? MODES : [...MODES].reverse();
      for (const mode of order) {
        // Off reads the fully sampled backlog: the same headers, nothing done with them.
        const topic = backlogs.get(mode.sampling ?? 1)!;
        const before = { ...sink.received };
        const drain = await drainCapacity(
          context,
          'service',
          topic,
          options.drainBacklog,
          'unique',
          mode.sampling === undefined
            ? {}
            : {
                telemetry: {
                  sampling: mode.sampling,
                  otlpEndpoint: sink.endpoint,
                  scrapeIntervalMs: SCRAPE_INTERVAL_MS,
                },
              },
        );
        runs.push({
          mode: mode.label,
          sampling: mode.sampling ?? null,
          round,
          rate: drain.rate,
          cpuMicrosPerOutput: drain.stats.cpuMicrosPerOutput,
          eventLoopUtilization: drain.stats.eventLoopUtilization,
          exportRequests: sink.received.requests - before.requests,
          exportedBytes: sink.received.bytes - before.bytes,
          drain,
        });
        process.stderr.write(`  ${mode.label}, round ${round}: ${drain.rate.toFixed(0)}/s\n`);
      }
    }
  } finally {
    await deleteTopics(
      kafka,
      [...backlogs.values()].flatMap((topic) => [topic, `${topic}.DLT`]),
    );
    await sink.close();
    stopBroker();
  }
  const summary = summarize(runs);
  const text = markdown(summary, options.drainBacklog, rounds);
  writeResult('telemetry', {
    quick: options.quick,
    model: options.model,
    rounds,
    summary,
    runs,
    markdown: text,
  });
  process.stderr.write(`\n${text}\nwrote ${generateReport().join(', ')}\n`);
}

await main();
