/**
 * `npm run bench:profile`: where the service's main thread spends its time. The full service runs in this
 * process and drains a backlog (`--drain-backlog`, `--model`) under V8's CPU profiler; prints the drain
 * rate and the self time by package and by function, and writes the profile to .cache/profiles/ for
 * Chrome DevTools or speedscope. No load generator or latency consumer runs meanwhile, so the rate is
 * higher than the benchmark's drain, where a reader shares the machine.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { packagePath } from '../src/config/index.js';
import { startService } from '../src/service/index.js';
import { createLogger } from '../src/telemetry/index.js';
import { createTopics, deleteTopics, ensureBroker, harnessKafka, uniqueName } from './lib/broker.js';
import { createEventSource } from './lib/events.js';
import { parseBenchOptions } from './lib/options.js';
import { publishBacklog } from './lib/scenarios.js';
import { serviceConfig } from './targets/target-config.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const TOP = 25;

/** Where a function lives: the path under node_modules or the repository, or node's own modules. */
function fileOf(url: string): string {
  const inModules = url.split('/node_modules/')[1];
  if (inModules) return inModules;
  const inRepository = url.split(packagePath(''))[1];
  if (inRepository) return inRepository;
  return url || '(native, GC, idle)';
}

/** node_modules/<package>, src/<folder>, node, or what V8 reports as native, GC and idle time. */
function ownerOf(url: string): string {
  const file = fileOf(url);
  if (url.includes('/node_modules/')) {
    const [scope, name] = file.split('/');
    return scope!.startsWith('@') ? `${scope}/${name}` : scope!;
  }
  if (file.startsWith('node:')) return 'node';
  return file.includes('/') ? file.split('/').slice(0, 2).join('/') : file;
}

function selfTimes(profile: CpuProfile, keyOf: (node: ProfileNode) => string): [string, number][] {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, index) => {
    const key = keyOf(nodes.get(id)!);
    totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  return [...totals].sort((a, b) => b[1] - a[1]);
}

function printShares(title: string, rows: [string, number][], total: number): void {
  process.stdout.write(`\n${title}\n`);
  for (const [key, micros] of rows.slice(0, TOP))
    process.stdout.write(`${((micros / total) * 100).toFixed(1).padStart(6)}%  ${key}\n`);
}

async function main(): Promise<void> {
  const options = parseBenchOptions();
  const stopBroker = await ensureBroker(options.brokers);
  const kafka = harnessKafka(options.brokers);
  const inputTopic = uniqueName('profile-in');
  const outputTopic = uniqueName('profile-out');
  const topics = [inputTopic, outputTopic, `${inputTopic}.DLT`];
  const backlog = options.drainBacklog;
  const session = new Session();
  try {
    await createTopics(kafka, topics, options.partitions);
    await publishBacklog(kafka, inputTopic, createEventSource('unique'), backlog);
    const config = serviceConfig(
      {
        brokers: options.brokers,
        inputTopic,
        outputTopic,
        groupId: uniqueName('profile-group'),
        model: options.model,
        sampleIntervalMs: 0,
      },
      'profile',
    );
    const service = await startService(config, createLogger(config.log));
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    const startedAt = performance.now();
    while (service.counters.predictionsOut < backlog) await sleep(20);
    const seconds = (performance.now() - startedAt) / 1000;
    const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
    await service.stop();

    const directory = packagePath('.cache/profiles');
    mkdirSync(directory, { recursive: true });
    const path = `${directory}/service-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`;
    writeFileSync(path, JSON.stringify(profile));
    const total = profile.timeDeltas.reduce((sum, delta) => sum + delta, 0);
    process.stdout.write(
      `drained ${backlog.toLocaleString('en-US')} events (${options.model}) in ${seconds.toFixed(1)} s: ` +
        `${Math.round(backlog / seconds).toLocaleString('en-US')}/s; main-thread profile ${path}\n`,
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
    session.disconnect();
    await deleteTopics(kafka, topics);
    stopBroker();
  }
}

await main();
