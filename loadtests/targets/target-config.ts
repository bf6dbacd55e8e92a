/** The service's configuration for a benchmark target, so all three targets use the same Kafka settings. */
import { type Config, loadConfig } from '../../src/config/index.js';
import type { TargetConfig } from '../lib/targets.js';

export function serviceConfig(target: TargetConfig, clientId: string): Config {
  const format = target.format ? { format: target.format } : {};
  return loadConfig({
    env: {},
    overrides: {
      kafka: { brokers: target.brokers, clientId },
      input: {
        topic: target.inputTopic,
        groupId: target.groupId,
        ...format,
        ...(target.loops !== undefined ? { loops: target.loops } : {}),
      },
      output: { topic: target.outputTopic, ...format },
      // Hot reload polls the disk; nothing changes the repository during a benchmark.
      model: {
        name: target.model,
        pollIntervalMs: 0,
        ...(target.workers !== undefined ? { workers: target.workers } : {}),
        ...(target.modelRepository ? { repository: target.modelRepository } : {}),
      },
      ...(target.challengers ? { experiments: { challengers: target.challengers } } : {}),
      ...(target.registryUrl ? { registry: { urls: [target.registryUrl] } } : {}),
      ...(target.monitoring ? { monitoring: target.monitoring } : {}),
      admin: { port: 0 },
      log: { level: 'warn' },
    },
  });
}
