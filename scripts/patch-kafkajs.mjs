#!/usr/bin/env node
// Runs after every install (npm's postinstall). kafkajs 2.2.4 is no longer released, its record paths
// cost more per record than they need to, and its request queues wake their thread for nothing; each
// patch below replaces exact original text with code that gives the same result (tests in test/kafka/
// check the installed files and their output), and is applied only to the 2.2.4 original it was written
// against. Plain Node, no dependencies of its own.
//
// - grouping: a send's messages were grouped by partition with `[...current, message]` inside a reduce,
//   which copies the partition's array once per message, quadratic in the messages of one send
//   (streamscore sends a whole Kafka batch of predictions at once). The linear rewrite proposed upstream
//   (tulios/kafkajs#1576) was never merged.
// - encoding: every varint allocated an array and a Buffer, every 64-bit varint went through a Long
//   emulation, and encoder buffers were zero-filled. Now varints are written in place, small 64-bit
//   varints (all timestamp deltas of a batch but pathological ones) as the 32-bit ones they equal, and
//   buffers allocated without zero-filling (only the bytes written are ever read).
// - records (scripts/patch-kafkajs-records.mjs): a partition's records written into one encoder.
// - decoding (scripts/patch-kafkajs-decoding.mjs): records read in place, offsets and timestamps added as
//   numbers instead of through the 64-bit emulation.
// - checksum (scripts/patch-kafkajs-checksum.mjs): CRC-32C eight bytes a step instead of one.
// - request queue (scripts/patch-kafkajs-request-queue.mjs): no longer a 1 ms timer per connection,
//   rearmed forever, checking an empty queue of pending requests.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CHECKSUM_PATCHES } from './patch-kafkajs-checksum.mjs';
import { DECODING_PATCHES } from './patch-kafkajs-decoding.mjs';
import { RECORD_PATCHES } from './patch-kafkajs-records.mjs';
import { REQUEST_QUEUE_PATCHES } from './patch-kafkajs-request-queue.mjs';

const PATCHED_VERSION = '2.2.4';

/** The first line of every file patched here; `name` says which patch. */
const markerOf = (name) => `// streamscore: ${name} (scripts/patch-kafkajs.mjs)`;

const GROUPING_ORIGINAL = `module.exports = ({ topic, partitionMetadata, messages, partitioner }) => {
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

const GROUPING_LINEAR = `module.exports = ({ topic, partitionMetadata, messages, partitioner }) => {
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

// Below 2^30 in magnitude, a 64-bit zigzag varint has the bytes of the 32-bit one.
const SMALL_VARLONG = `typeof value === 'number' && value >= -0x40000000 && value < 0x40000000`;

const PATCHES = [
  ...DECODING_PATCHES,
  ...CHECKSUM_PATCHES,
  ...RECORD_PATCHES,
  ...REQUEST_QUEUE_PATCHES,
  {
    name: 'linear grouping',
    file: 'src/producer/groupMessagesPerPartition.js',
    edits: [[GROUPING_ORIGINAL, GROUPING_LINEAR]],
  },
  {
    name: 'encoder buffers and varints',
    file: 'src/protocol/encoder.js',
    edits: [
      [
        `  static sizeOfVarLong(value) {
    let longValue = Encoder.encodeZigZag64(value)
`,
        `  static sizeOfVarLong(value) {
    if (${SMALL_VARLONG}) return Encoder.sizeOfVarInt(value)
    let longValue = Encoder.encodeZigZag64(value)
`,
      ],
      [
        `    this.buf = Buffer.alloc(Encoder.nextPowerOfTwo(initialSize))
`,
        `    this.buf = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(initialSize))
`,
      ],
      [
        `      const newBuffer = Buffer.alloc(newLength)
`,
        `      const newBuffer = Buffer.allocUnsafe(newLength)
`,
      ],
      [
        `  writeUVarInt(value) {
    const byteArray = []
    while ((value & UNSIGNED_INT32_MAX_NUMBER) !== 0) {
      byteArray.push((value & OTHER_BITS) | MOST_SIGNIFICANT_BIT)
      value >>>= 7
    }
    byteArray.push(value & OTHER_BITS)
    this.writeBufferInternal(Buffer.from(byteArray))
    return this
  }
`,
        `  writeUVarInt(value) {
    this.ensureAvailable(5)
    while ((value & UNSIGNED_INT32_MAX_NUMBER) !== 0) {
      this.buf[this.offset++] = (value & OTHER_BITS) | MOST_SIGNIFICANT_BIT
      value >>>= 7
    }
    this.buf[this.offset++] = value & OTHER_BITS
    return this
  }
`,
      ],
      [
        `  writeVarLong(value) {
    const byteArray = []
`,
        `  writeVarLong(value) {
    if (${SMALL_VARLONG}) return this.writeVarInt(value)
    const byteArray = []
`,
      ],
    ],
  },
];

const require = createRequire(import.meta.url);
let manifestPath;
try {
  manifestPath = require.resolve('kafkajs/package.json');
} catch {
  process.exit(0); // kafkajs not installed (yet): nothing to patch.
}
const { version } = JSON.parse(readFileSync(manifestPath, 'utf8'));
const applied = [];
for (const { name, file, edits } of PATCHES) {
  const target = join(dirname(manifestPath), file);
  const marker = markerOf(name);
  const current = readFileSync(target, 'utf8');
  if (current.startsWith(`${marker}\n`)) continue;
  const found = edits.every(([original]) => current.split(original).length === 2);
  if (version !== PATCHED_VERSION || !found) {
    console.error(
      `[streamscore] kafkajs ${version}: ${file} is not the ${PATCHED_VERSION} original; left as it is. ` +
        `Check whether "${name}" is still needed, and update scripts/patch-kafkajs.mjs.`,
    );
    continue;
  }
  let patched = current;
  for (const [original, replacement] of edits) patched = patched.replace(original, () => replacement);
  writeFileSync(target, `${marker}\n${patched}`);
  applied.push(name);
}
if (applied.length > 0) console.log(`[streamscore] patched kafkajs ${version}: ${applied.join(', ')}`);
