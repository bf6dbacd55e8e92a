/** Benchmark target: the full streamscore service, in-process in this child, as `streamscore serve` runs it. */
import { startService } from '../../src/service/index.js';
import { createLogger } from '../../src/telemetry/index.js';
import { runTarget } from './child.js';
import { serviceConfig } from './target-config.js';

await runTarget(async (target) => {
  const config = serviceConfig(target, 'bench-service');
  const logger = createLogger(config.log);
  const service = await startService(config, logger, {
    onFatal: (error) => {
      logger.fatal({ err: error }, 'service consumer stopped for good');
      process.exit(1);
    },
  });
  return { outputs: () => service.counters.predictionsOut, stop: () => service.stop() };
});
