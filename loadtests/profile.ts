/**
 * `npm run bench:profile`: where the service's main thread spends its time. The full service runs in this
 * process and drains a backlog (`--drain-backlog`, `--model`) under V8's CPU profiler; prints the drain
 * rate, the process CPU per record (every thread, the inference workers too) and the self time by package
 * and by function, and writes the profile to .cache/profiles/ for Chrome DevTools or speedscope. No load
 * generator or latency consumer runs meanwhile, so the rate is higher than the benchmark's drain, where a
 * reader shares the machine.
 *
 * `-- --rate N` profiles at a steady load instead: the service runs in its own child process under the
 * open-loop generator at N events/s and profiles its main thread over the measured window
 * (`--warmup-seconds`, `--measure-seconds`), which is how a service that is not saturated spends its time.
 * `-- --shadow` serves the model with one shadow of itself, as `loadtests/shadow.ts` measures it, and also
 * counts what became of the shadow's rows. `-- --monitoring` turns monitoring.alerts and monitoring.drift on
 * (topics of the drain's own), as `npm run bench:monitoring` measures them.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka } from 'kafkajs';
import { packagePath } from '../src/config/index.js';
import { startService } from '../src/service/index.js';
import { createLogger } from '../src/telemetry/index.js';
import { createTopics, deleteTopics, ensureBroker, harnessKafka, uniqueName } from './lib/broker.js';
import { type CpuProfile, fileOf, ownerOf, selfTimes } from './lib/cpu-profile.js';
import { createEventSource } from './lib/events.js';
import { MONITORING_ON } from './lib/monitoring-drain.js';
import { type BenchOptions, parseBenchOptions } from './lib/options.js';
import { type BenchContext, openLoopAgainst, publishBacklog } from './lib/scenarios.js';
import { prepareShadowRepository, type ShadowRepository } from './lib/shadow.js';
import { watchShadowRows } from './lib/shadow-rows.js';
import type { ShadowRowCounts } from './lib/targets.js';
import { serviceConfig } from './targets/target-config.js';

const TOP = 25;

function printShares(title: string, rows: [string, number][], total: number): void {
  process.stdout.write(`\n${title}\n`);
  for (const [key, micros] of rows.slice(0, TOP))
    process.stdout.write(`${((micros / total) * 100).toFixed(1).padStart(6)}%  ${key}\n`);
}

/** A drain that publishes nothing for this long has stalled; the profile stops there instead of hanging. */
const STALL_MS = 5_000;

interface ProfiledRun {
  /** What ran, for the first line. */
  description: string;
  profile: CpuProfile;
  path: string;
}

function profilePathFor(kind: string): string {
  const directory = packagePath('.cache/profiles');
  mkdirSync(directory, { recursive: true });
  return `${directory}/${kind}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`;
}

/** The service in this process drains a backlog under the profiler, until it has caught up or stalls. */
async function profileDrain(
  kafka: Kafka,
  options: BenchOptions,
  shadow: ShadowRepository | undefined,
): Promise<ProfiledRun> {
  const inputTopic = uniqueName('profile-in');
  const outputTopic = uniqueName('profile-out');
  const groupId = uniqueName('profile-group');
  const monitoring = options.monitoring
    ? { ...MONITORING_ON, alertsTopic: `${outputTopic}.alerts`, topic: `${outputTopic}.monitoring` }
    : undefined;
  const topics = [
    inputTopic,
    outputTopic,
    `${inputTopic}.DLT`,
    ...(shadow ? [`${outputTopic}.comparisons`] : []),
    ...(monitoring ? [monitoring.alertsTopic, monitoring.topic] : []),
  ];
  const backlog = options.drainBacklog;
  const session = new Session();
  const shadowRows = watchShadowRows();
  try {
    await createTopics(kafka, topics, options.partitions);
    await publishBacklog(kafka, inputTopic, createEventSource('unique'), backlog);
    const config = serviceConfig(
      {
        brokers: options.brokers,
        inputTopic,
        outputTopic,
        groupId,
        model: options.model,
        sampleIntervalMs: 0,
        ...(shadow ? { modelRepository: shadow.directory, challengers: [shadow.challenger] } : {}),
        ...(monitoring ? { monitoring } : {}),
      },
      'profile',
    );
    const service = await startService(config, createLogger(config.log));
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    const startedAt = performance.now();
    const startCpu = process.cpuUsage();
    let published = 0;
    let progressAt = startedAt;
    while (service.counters.predictionsOut < backlog && performance.now() - progressAt < STALL_MS) {
      await sleep(20);
      if (service.counters.predictionsOut > published) {
        published = service.counters.predictionsOut;
        progressAt = performance.now();
      }
    }
    const stalled = published < backlog;
    const seconds = ((stalled ? progressAt : performance.now()) - startedAt) / 1000;
    const cpu = process.cpuUsage(startCpu);
    const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
    await service.stop();
    const path = profilePathFor('service');
    writeFileSync(path, JSON.stringify(profile));
    const lines = [
      stalled
        ? `stalled: ${published.toLocaleString('en-US')} of ${backlog.toLocaleString('en-US')} events drained, none in the last ${STALL_MS / 1000} s`
        : `drained ${backlog.toLocaleString('en-US')} events in ${seconds.toFixed(1)} s: ${Math.round(backlog / seconds).toLocaleString('en-US')}/s`,
      `${((cpu.user + cpu.system) / Math.max(1, published)).toFixed(1)} µs of process CPU per record`,
      ...(shadow ? [shadowRowsLine(shadowRows.counts)] : []),
    ];
    return { description: lines.join('; '), profile, path };
  } finally {
    session.disconnect();
    shadowRows.close();
    // The service creates its deployments control topic for the fresh group.
    await deleteTopics(kafka, [...topics, `${groupId}.deployments`]);
  }
}

/** The service in a child process under the open-loop generator at `rate`, profiled over the window. */
async function profileAtRate(
  kafka: Kafka,
  options: BenchOptions,
  shadow: ShadowRepository | undefined,
): Promise<ProfiledRun> {
  const context: BenchContext = { options, kafka };
  const path = profilePathFor('service-at-rate');
  const { run, stats } = await openLoopAgainst(
    context,
    'service',
    options.rate,
    'unique',
    { warmupSeconds: options.warmupSeconds, measureSeconds: options.measureSeconds, graceSeconds: 5 },
    `profile at ${options.rate}/s`,
    {
      profilePath: path,
      ...(shadow ? { modelRepository: shadow.directory, challengers: [shadow.challenger] } : {}),
    },
  );
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const lines = [
    `${run.offeredRate.toLocaleString('en-US')}/s offered, lag grew ${run.lagGrowthSeconds.toFixed(2)} s of traffic`,
    `latency p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms`,
    `${stats.cpuMicrosPerOutput.toFixed(1)} µs of process CPU per record (${stats.coresUsed.toFixed(2)} cores)`,
    ...(shadow ? [shadowRowsLine(stats.shadowRows)] : []),
  ];
  return { description: lines.join('; '), profile, path };
}

function shadowRowsLine({ ok, timeout, shed, error }: ShadowRowCounts): string {
  return `shadow rows: ${ok} scored, ${timeout} late, ${shed} shed, ${error} failed`;
}

async function main(): Promise<void> {
  const options = parseBenchOptions();
  const stopBroker = await ensureBroker(options.brokers);
  const kafka = harnessKafka(options.brokers);
  const shadow = options.shadow ? await prepareShadowRepository(options.model) : undefined;
  try {
    const run =
      options.rate > 0
        ? await profileAtRate(kafka, options, shadow)
        : await profileDrain(kafka, options, shadow);
    const { profile } = run;
    const total = profile.timeDeltas.reduce((sum, delta) => sum + delta, 0);
    process.stdout.write(
      `${options.model}${shadow ? ` with ${shadow.challenger}` : ''}${options.monitoring ? ' (alerts + drift on)' : ''}: ${run.description}\nmain-thread profile ${run.path}\n`,
    );
    printShares(
      'self time by owner',
      selfTimes(profile, (node) => ownerOf(node.callFrame.url)),
      total,
    );
    printShares(
      'self time by function',
      selfTimes(profile, ({ callFrame }) => {
        const where = callFrame.url ? ` ${fileOf(callFrame.url)}:${callFrame.lineNumber + 1}` : '';
        return `${callFrame.functionName || '(anonymous)'}${where}`;
      }),
      total,
    );
  } finally {
    await shadow?.remove();
    stopBroker();
  }
}

await main();
