/** The configuration an in-process service gets in the tests: the test's broker and topics, a free admin port. */
import { type Config, type ConfigInput, loadConfig } from '../../src/config/index.js';

export interface ServiceTopics {
  input: string;
  output: string;
  groupId: string;
}

/** Defaults with the test's broker and topics; `extra` adds to (or overrides) any section. */
export function serviceTestConfig(brokers: string[], topics: ServiceTopics, extra: ConfigInput = {}): Config {
  return loadConfig({
    env: {},
    overrides: {
      ...extra,
      kafka: { brokers, ...extra.kafka },
      input: { topic: topics.input, groupId: topics.groupId, ...extra.input },
      output: { topic: topics.output, ...extra.output },
      admin: { port: 0, ...extra.admin },
      log: { level: 'warn', ...extra.log },
    },
  });
}
