/**
 * `npm run bench:loop-hosts`: why consumer loops are threads. The same backlog (6 partitions) is drained
 * by two loops as threads of one process (input.loops 2) and by two single-loop processes in one group,
 * both with inference on each loop's own thread (model.workers 0), in alternating rounds of one run; the
 * rate is read from the output topic, CPU and resident memory are summed over the processes. Writes
 * loadtests/results/loop-hosts.json with its BENCHMARKS.md section. `--quick`: one round, a check.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createTopics,
  deleteTopics,
  ensureBroker,
  harnessKafka,
  uniqueName,
  waitForStableGroup,
} from './lib/broker.js';
import { createEventSource } from './lib/events.js';
import { integer, micros, rate } from './lib/format.js';
import { joinedConsumer } from './lib/open-loop.js';
import { type BenchOptions, parseBenchOptions } from './lib/options.js';
import { writeResult } from './lib/results.js';
import { alternate, loadAverage, median } from './lib/rounds.js';
import { publishBacklog } from './lib/scenarios.js';
import { type RunningTarget, startTarget, type TargetKind } from './lib/targets.js';

const LOOPS = 2;
const PARTITIONS = 6;

type Host = 'threads' | 'processes';

const HOST_LABELS: Record<Host, string> = {
  threads: `${LOOPS} loops as threads of one process`,
  processes: `${LOOPS} single-loop processes`,
};

interface HostDrain {
  host: Host;
  round: number;
  loadAverage: number;
  rate: number;
  cpuMicrosPerRecord: number;
  coresUsed: number;
  rssMiB: number;
}

const TARGETS: Record<Host, { kinds: TargetKind[]; loops?: number }> = {
  threads: { kinds: ['service-loops'], loops: LOOPS },
  processes: { kinds: Array<TargetKind>(LOOPS).fill('service') },
};

async function drain(options: BenchOptions, input: string, host: Host, round: number): Promise<HostDrain> {
  const kafka = harnessKafka(options.brokers);
  const output = uniqueName('hosts-out');
  const groupId = uniqueName('hosts-group');
  await createTopics(kafka, [output], PARTITIONS);
  const load = loadAverage();
  let outputs = 0;
  let firstBatch = 0;
  let firstAt = 0;
  let lastAt = 0;
  let targets: RunningTarget[] = [];
  const reader = await joinedConsumer(kafka, output, (values, receivedAt) => {
    if (outputs === 0) {
      firstAt = receivedAt;
      firstBatch = values.length;
      for (const target of targets) target.mark();
    }
    outputs += values.length;
    lastAt = receivedAt;
  });
  try {
    const { kinds, loops } = TARGETS[host];
    targets = await Promise.all(
      kinds.map((kind) =>
        startTarget(kind, {
          brokers: options.brokers,
          inputTopic: input,
          outputTopic: output,
          groupId,
          model: options.model,
          sampleIntervalMs: options.sampleSeconds * 1000,
          workers: 0,
          ...(loops ? { loops } : {}),
        }),
      ),
    );
    if (outputs > 0) for (const target of targets) target.mark();
    await waitForStableGroup(kafka, groupId, LOOPS);
    const deadline = performance.now() + options.drainTimeoutSeconds * 4_000;
    while (outputs < options.drainBacklog && performance.now() < deadline) await sleep(50);
    const stats = await Promise.all(targets.map((target) => target.stop()));
    targets = [];
    if (outputs < options.drainBacklog)
      throw new Error(`${host}: drained ${outputs} of ${options.drainBacklog}`);
    const cpuMicros = stats.reduce((sum, entry) => sum + entry.cpuMicrosPerOutput * entry.outputs, 0);
    const counted = stats.reduce((sum, entry) => sum + entry.outputs, 0);
    const windowSeconds = Math.max(...stats.map((entry) => entry.seconds));
    return {
      host,
      round,
      loadAverage: load,
      rate: (outputs - firstBatch) / ((lastAt - firstAt) / 1000),
      cpuMicrosPerRecord: cpuMicros / counted,
      coresUsed: cpuMicros / 1e6 / windowSeconds,
      rssMiB: stats.reduce((sum, entry) => sum + entry.rssMiB, 0),
    };
  } finally {
    await Promise.all(targets.map((target) => target.stop().catch(() => undefined)));
    await reader.disconnect();
    await deleteTopics(kafka, [output, `${groupId}.deployments`]);
  }
}

function markdown(options: BenchOptions, drains: readonly HostDrain[]): string {
  const row = (host: Host) => {
    const mine = drains.filter((entry) => entry.host === host);
    const of = (pick: (entry: HostDrain) => number) => median(mine.map(pick));
    return `| ${HOST_LABELS[host]} | ${rate(of((entry) => entry.rate))} (${mine.map((entry) => integer(entry.rate)).join('; ')}) | ${micros(of((entry) => entry.cpuMicrosPerRecord))} | ${of((entry) => entry.coresUsed).toFixed(2)} | ${integer(of((entry) => entry.rssMiB))} MiB |`;
  };
  const loads = drains.map((entry) => entry.loadAverage);
  return [
    '## Consumer loops: threads or processes',
    '',
    `\`npm run bench:loop-hosts\`: ${integer(options.drainBacklog)} events on ${PARTITIONS} partitions (${options.model}) drained by ${LOOPS} loops as threads of one process and by ${LOOPS} single-loop processes in one group, inference on each loop's thread, ${Math.max(...drains.map((entry) => entry.round))} alternating rounds; medians, each round in brackets; CPU and memory summed over the processes. Load average at the drains' starts: ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}.${options.quick ? ' A --quick run: a check, not figures.' : ''}`,
    '',
    '| loops hosted as | drain rate | CPU per record | cores used | resident memory |',
    '| --- | --- | --- | --- | --- |',
    row('threads'),
    row('processes'),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const options = parseBenchOptions();
  const stopBroker = await ensureBroker(options.brokers);
  const kafka = harnessKafka(options.brokers);
  const input = uniqueName('hosts-backlog');
  const drains: HostDrain[] = [];
  try {
    await createTopics(kafka, [input, `${input}.DLT`], PARTITIONS);
    await publishBacklog(kafka, input, createEventSource('unique'), options.drainBacklog);
    const rounds = options.quick ? 1 : 3;
    for (let round = 1; round <= rounds; round++) {
      for (const host of alternate<Host>(round, ['threads', 'processes'])) {
        const result = await drain(options, input, host, round);
        process.stderr.write(
          `  round ${round}, ${HOST_LABELS[host]}: ${rate(result.rate)}, ${micros(result.cpuMicrosPerRecord)} CPU per record\n`,
        );
        drains.push(result);
      }
    }
    const text = markdown(options, drains);
    writeResult('loop-hosts', {
      title: 'Consumer loops: threads or processes',
      options,
      drains,
      markdown: text,
    });
    process.stderr.write(`\n${text}`);
  } finally {
    await deleteTopics(kafka, [input, `${input}.DLT`]);
    stopBroker();
  }
}

await main();
