#!/usr/bin/env node
// Runs after every install (npm's postinstall). kafkajs 2.2.4 groups a send's messages by partition with
// `[...current, message]` inside a reduce, which copies the partition's array once per message: quadratic
// in the messages of one send. streamscore sends a whole Kafka batch of predictions at once (thousands of
// records), and that copying was the largest single cost on its main thread. kafkajs is no longer released,
// and the linear rewrite proposed upstream (tulios/kafkajs#1576) was never merged, so the file is replaced
// here: same result, same key order, one array per partition. Plain Node, no dependencies of its own.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const PATCHED_VERSION = '2.2.4';
const MARKER = '// streamscore: linear grouping (scripts/patch-kafkajs.mjs)';

const ORIGINAL = `module.exports = ({ topic, partitionMetadata, messages, partitioner }) => {
  if (partitionMetadata.length === 0) {
    return {}
  }

  return messages.reduce((result, message) => {
    const partition = partitioner({ topic, partitionMetadata, message })
    const current = result[partition] || []
    return Object.assign(result, { [partition]: [...current, message] })
  }, {})
}
`;

const LINEAR = `${MARKER}
module.exports = ({ topic, partitionMetadata, messages, partitioner }) => {
  const byPartition = {}
  if (partitionMetadata.length === 0) {
    return byPartition
  }
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message })
    const messagesOfPartition = byPartition[partition]
    if (messagesOfPartition === undefined) byPartition[partition] = [message]
    else messagesOfPartition.push(message)
  }
  return byPartition
}
`;

const require = createRequire(import.meta.url);
let manifestPath;
try {
  manifestPath = require.resolve('kafkajs/package.json');
} catch {
  process.exit(0); // kafkajs not installed (yet): nothing to patch.
}
const { version } = JSON.parse(readFileSync(manifestPath, 'utf8'));
const target = join(dirname(manifestPath), 'src/producer/groupMessagesPerPartition.js');
const current = readFileSync(target, 'utf8');

if (current === LINEAR) process.exit(0);
if (version !== PATCHED_VERSION || current !== ORIGINAL) {
  console.error(
    `[streamscore] kafkajs ${version}: groupMessagesPerPartition.js is not the ${PATCHED_VERSION} original; ` +
      'left as it is. Check whether it still copies per message, and update scripts/patch-kafkajs.mjs.',
  );
  process.exit(0);
}
writeFileSync(target, LINEAR);
console.log(`[streamscore] patched kafkajs ${version}: linear per-partition grouping of producer messages`);
