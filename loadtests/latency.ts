/**
 * `npm run bench:latency`: latency at an ordinary load. Kafka's EndToEndLatency tool on the broker, then the
 * service (input.loops auto, and one loop) and the bare kafkajs pipe at a steady 1,000 events/s once warm,
 * then each again with every event's instants recorded, for the breakdown. Writes
 * loadtests/results/low-latency.json and prints its BENCHMARKS.md section.
 */
import { ensureBroker, harnessKafka } from './lib/broker.js';
import { localBrokerGcLog, readBrokerGcPauses } from './lib/broker-gc.js';
import { IDLE_MEASURE_SECONDS, idleCores } from './lib/idle-cost.js';
import {
  goalVerdicts,
  judgedLatency,
  type LowLatencyResult,
  lowLatencyMarkdown,
  runLabel,
  type SteadyRun,
} from './lib/low-latency-report.js';
import { runEndToEndLatencyTool, twoHops } from './lib/low-latency-tool.js';
import { type TraceRun, traceSteadyRun } from './lib/low-latency-trace.js';
import { parseBenchOptions } from './lib/options.js';
import { writeResult } from './lib/results.js';
import { loadAverage } from './lib/rounds.js';
import { type BenchContext, openLoopAgainst } from './lib/scenarios.js';
import type { TargetKind } from './lib/targets.js';

/** An ordinary load for a fraud pipeline, far below what one process sustains. */
const RATE = 1_000;
/** The goal is stated for a warm service: JIT, fetch sizes and connections settled. */
const MIN_WARMUP_SECONDS = 10;
const MIN_MEASURE_SECONDS = 20;
/** The tool's records are sent one at a time; 10,000 leave ten beyond its p99.9, in well under a minute. */
const TOOL_RECORDS = 10_000;
const TOOL_RECORD_BYTES = 100;

const TARGETS: readonly { target: TargetKind; loops?: number | 'auto' }[] = [
  { target: 'service-loops', loops: 'auto' },
  { target: 'service-loops', loops: 1 },
  { target: 'bare-pipe' },
];

async function main(): Promise<void> {
  const options = parseBenchOptions();
  const timing = {
    warmupSeconds: Math.max(MIN_WARMUP_SECONDS, options.warmupSeconds),
    measureSeconds: Math.max(MIN_MEASURE_SECONDS, options.measureSeconds),
  };
  const stopBroker = await ensureBroker(options.brokers);
  const context: BenchContext = { options, kafka: harnessKafka(options.brokers) };
  try {
    const startLoad = loadAverage();
    process.stderr.write(`EndToEndLatency, ${TOOL_RECORDS} records of ${TOOL_RECORD_BYTES} bytes\n`);
    const gcLog = localBrokerGcLog(options.brokers);
    const toolStartedAt = Date.now();
    const hop = await runEndToEndLatencyTool(context.kafka, options.brokers, TOOL_RECORDS, TOOL_RECORD_BYTES);
    const toolPauses = readBrokerGcPauses(gcLog, toolStartedAt, Date.now());
    const twoHop = twoHops(hop);
    const runs: LowLatencyResult['runs'] = [];
    for (const { target, loops } of TARGETS) {
      const label = `${runLabel(target, loops)} at ${RATE}/s`;
      const setup = loops === undefined ? {} : { loops };
      process.stderr.write(`${runLabel(target, loops)} with no load\n`);
      const idleCoresUsed = await idleCores(context, target, setup);
      const { run, stats } = await openLoopAgainst(
        context,
        target,
        RATE,
        'unique',
        { ...timing, graceSeconds: 2 },
        label,
        setup,
      );
      const window = run.measuredEpochMs;
      const pauses = window && readBrokerGcPauses(gcLog, window.start, window.end);
      const steady: SteadyRun = {
        target,
        loops,
        latencyMs: run.latencyMs,
        ...(run.latencyFromSendMs && { latencyFromSendMs: run.latencyFromSendMs }),
        receiveRate: run.receiveRate,
        unreceived: run.unreceived,
        coresUsed: stats.coresUsed,
        cpuMicrosPerRecord: stats.cpuMicrosPerOutput,
        idleCoresUsed,
        ...(pauses && { brokerGcPauses: pauses }),
      };
      runs.push({ ...steady, goals: goalVerdicts(judgedLatency(steady), twoHop) });
    }
    const traces: TraceRun[] = [];
    for (const { target, loops } of TARGETS) {
      process.stderr.write(`breakdown: ${runLabel(target, loops)} at ${RATE}/s\n`);
      traces.push(await traceSteadyRun(context, target, RATE, timing, loops));
    }
    const result: LowLatencyResult = {
      rate: RATE,
      ...timing,
      partitions: options.partitions,
      idleMeasureSeconds: IDLE_MEASURE_SECONDS,
      loadAverage: startLoad,
      tool: { ...hop, recordBytes: TOOL_RECORD_BYTES, ...(toolPauses && { brokerGcPauses: toolPauses }) },
      twoHop,
      runs,
      traces,
    };
    const markdown = lowLatencyMarkdown(result);
    const path = writeResult('low-latency', {
      title: `Low-load latency: ${RATE} events/s against Kafka's EndToEndLatency`,
      quick: options.quick,
      model: options.model,
      ...result,
      markdown,
    });
    process.stderr.write(`\n${markdown}\nwrote ${path}\n`);
  } finally {
    stopBroker();
  }
}

await main();
