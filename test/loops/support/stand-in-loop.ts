/**
 * A loop thread for the host's tests: it speaks the loops protocol (src/loops/protocol.ts) without a
 * service behind it, and misbehaves as STAND_IN_LOOP (JSON) tells the loop it names: `notReady`, the loop
 * whose /readyz answers 503 with a reason; `exitsAfterStart`, the loop that stops on its own, with exit
 * code 1, once every loop has started. A loop the host stops leaves a file named for it in `stopsDirectory`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { HostMessage, LoopData, LoopMessage } from '../../../src/loops/protocol.js';
import { NOT_READY_REASON, type StandInBehaviour, stoppedFile } from './stand-in.js';

const { index } = workerData as LoopData;
const behaviour = JSON.parse(process.env.STAND_IN_LOOP!) as StandInBehaviour;
const host = parentPort!;
const post = (message: LoopMessage) => host.postMessage(message);

host.on('message', (message: HostMessage) => {
  if (message.type === 'join') {
    post({ type: 'started' });
    if (behaviour.exitsAfterStart === index) setTimeout(() => process.exit(1), 100);
  } else if (message.type === 'stop') {
    writeFileSync(join(behaviour.stopsDirectory, stoppedFile(index)), '');
    process.exit(0);
  } else {
    const ready = message.request.path !== '/readyz' || behaviour.notReady !== index;
    post({
      type: 'response',
      id: message.id,
      response: ready
        ? { status: 200, body: { ready: true } }
        : { status: 503, body: { ready: false, reasons: [NOT_READY_REASON] } },
    });
  }
});

post({ type: 'prepared' });
