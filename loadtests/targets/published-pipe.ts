/**
 * Benchmark target: the bare pipe (targets/bare-pipe.ts) on kafkajs as npm publishes it, without the
 * patches streamscore's postinstall applies to its record paths (scripts/patch-kafkajs.mjs). It is what a
 * team gets from kafkajs alone; the bare pipe on the patched kafkajs is the floor under the service itself.
 */
import { register } from 'node:module';

register('./published-kafkajs-hooks.mjs', import.meta.url);
// Imported only now: a static import would resolve kafkajs before the hook is in place.
await import('./bare-pipe.js');
