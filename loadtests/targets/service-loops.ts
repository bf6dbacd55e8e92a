/**
 * Benchmark target: the full service as `streamscore serve` runs it with input.loops above one, loops on
 * threads behind one admin server. Its outputs are read where an operator reads them: the process's
 * /metrics, summed over loops.
 */
import { loopCount, startLoops } from '../../src/loops/index.js';
import { createLogger } from '../../src/telemetry/index.js';
import { runTarget } from './child.js';
import { serviceConfig } from './target-config.js';

const PREDICTIONS_OUT = /^streamscore_predictions_out_total\{[^}]*\} (\S+)$/gm;

await runTarget(async (target) => {
  const config = serviceConfig({ ...target, loops: target.loops ?? 'auto' }, 'bench-service-loops');
  const logger = createLogger(config.log);
  const loops = await startLoops(config, logger, {
    count: loopCount(config.input.loops),
    version: 'bench',
    onFatal: (error) => {
      logger.fatal({ err: error }, 'a service loop stopped for good');
      process.exit(1);
    },
  });
  return {
    outputs: async () => {
      const text = await (await fetch(`${loops.adminUrl}/metrics`)).text();
      return [...text.matchAll(PREDICTIONS_OUT)].reduce((sum, [, value]) => sum + Number(value), 0);
    },
    stop: () => loops.stop(),
  };
});
