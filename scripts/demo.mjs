#!/usr/bin/env node
// `npm run demo`: installs what is missing, builds, starts the local Kafka broker (if none is running),
// then runs `streamscore demo` until Ctrl-C, and stops the broker again if this script started it.
import { execFileSync, execSync, spawn } from 'node:child_process';

const run = (command) => execSync(command, { stdio: 'inherit' });
const kafka = (command) => execFileSync('bash', ['scripts/kafka/kafka.sh', command], { stdio: 'inherit' });
const brokerRunning = () => {
  try {
    execFileSync('bash', ['scripts/kafka/kafka.sh', 'status'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

run('node scripts/ensure-installed.mjs');
run('npx tsc -p tsconfig.build.json');
const startedBroker = !brokerRunning();
if (startedBroker) kafka('start');

const demo = spawn(process.execPath, ['dist/cli/main.js', 'demo', ...process.argv.slice(2)], {
  stdio: 'inherit',
});
// Ctrl-C reaches the demo directly (same process group); this script only waits for it to finish.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => demo.kill('SIGTERM'));
demo.on('exit', (code, signal) => {
  if (startedBroker) kafka('stop');
  process.exit(code ?? (signal ? 1 : 0));
});
