/**
 * Benchmark target of the scale-out benchmark (lib/scale-instances.ts): one service instance of one
 * consumer loop (the benchmark counts instances; `npm run bench` compares loops), its settings from
 * STREAMSCORE_* variables and a graceful stop on SIGTERM
 * through the CLI's own runtime, but without loading the CLI's other commands, which have nothing to do
 * with serving. Not under targets/child.ts: the harness reads this process's CPU from /proc and stops it
 * with signals, as an orchestrator would.
 */
import { createRuntime, onShutdownSignal, startUnlessStopped } from '../../src/cli/runtime.js';
import type { RunningService } from '../../src/service/index.js';

const runtime = createRuntime({});
const stopping = new AbortController();
let starting: Promise<RunningService | undefined> = Promise.resolve(undefined);
onShutdownSignal(runtime.logger, async () => {
  stopping.abort();
  // Stopped while starting: the start released everything itself before settling.
  await (await starting)?.stop();
});
starting = startUnlessStopped(runtime, stopping.signal);
await starting;
