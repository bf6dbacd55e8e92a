/**
 * Benchmark target: the floor under the service. The same consumer loop, producer and settings as the
 * service, republishing each batch's records unchanged (no decode, no model, no encode), so the
 * difference to the full service is the cost of scoring.
 */
import { connectPublisher, createGroupMember } from '../../src/kafka/index.js';
import { createLogger } from '../../src/telemetry/index.js';
import { runTarget } from './child.js';
import { serviceConfig } from './target-config.js';

await runTarget(async (target) => {
  const config = serviceConfig(target, 'bench-bare-pipe');
  const logger = createLogger(config.log);
  const publisher = await connectPublisher(config.kafka, logger, 'bare-pipe');
  const member = createGroupMember(config.kafka, logger, config.input);
  let outputs = 0;
  // Republished, never committed: the floor is the consumer loop and the producer, nothing more.
  await member.run({
    handleBatch: async (batch) => {
      const records = batch.records.map(({ key, value }) => ({ key, value }));
      await publisher.publish(config.output.topic, records);
      outputs += records.length;
      return 'delivered';
    },
  });
  return {
    outputs: () => outputs,
    stop: async () => {
      await member.disconnect();
      await publisher.disconnect();
    },
  };
});
