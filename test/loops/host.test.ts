import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { type RunningLoops, startLoops } from '../../src/loops/index.js';
import { capturingLogger } from '../support/logs.js';
import { NOT_READY_REASON, type StandInBehaviour, stoppedFile } from './support/stand-in.js';

const STAND_IN = new URL('./support/stand-in-loop.js', import.meta.url);
const config = loadConfig({ env: {}, overrides: { admin: { port: 0 }, shutdown: { timeoutMs: 5_000 } } });

let running: RunningLoops | undefined;
let stopsDirectory: string | undefined;

/** Two stand-in loops behaving as told; `onFatal` as startLoops takes it. */
async function startStandIns(
  behaviour: Omit<StandInBehaviour, 'stopsDirectory'>,
  onFatal: (error: Error) => void = () => undefined,
): Promise<RunningLoops> {
  stopsDirectory = mkdtempSync(join(tmpdir(), 'streamscore-loops-'));
  // A worker thread starts with a copy of the process's environment.
  process.env.STAND_IN_LOOP = JSON.stringify({ ...behaviour, stopsDirectory });
  running = await startLoops(config, capturingLogger('fatal').logger, {
    count: 2,
    version: 'test',
    onFatal,
    loopModule: STAND_IN,
  });
  return running;
}

afterEach(async () => {
  await running?.stop().catch(() => undefined);
  running = undefined;
  delete process.env.STAND_IN_LOOP;
  if (stopsDirectory) rmSync(stopsDirectory, { recursive: true, force: true });
});

describe('the loops host', () => {
  it('is ready when every loop is, and names the loop that is not', async () => {
    const loops = await startStandIns({ notReady: 1 });
    const response = await fetch(`${loops.adminUrl}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ ready: false, reasons: [`loop 1: ${NOT_READY_REASON}`] });
    expect((await fetch(`${loops.adminUrl}/healthz`)).status).toBe(200);
  });

  it('stops the other loops and reports a fatal error when one loop stops on its own', async () => {
    let fatal: Error | undefined;
    const reported = new Promise<void>((resolve) => {
      void startStandIns({ exitsAfterStart: 1 }, (error) => {
        fatal = error;
        resolve();
      });
    });
    await reported;
    expect(fatal).toMatchObject({ code: 'SHUTTING_DOWN', message: 'loop 1 stopped (exit code 1)' });
    // Loop 0 was told to stop, and did; loop 1 had stopped by itself.
    expect(existsSync(join(stopsDirectory!, stoppedFile(0)))).toBe(true);
    expect(existsSync(join(stopsDirectory!, stoppedFile(1)))).toBe(false);
    await expect(fetch(`${running!.adminUrl}/readyz`)).rejects.toThrow();
  });
});
