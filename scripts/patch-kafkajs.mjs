#!/usr/bin/env node
// Runs after every install (npm's postinstall). kafkajs 2.2.4 is no longer released, and its record paths
// cost more per record than they need to; each patch below replaces exact original text with code that
// gives the same result (tests in test/kafka/ check the installed files and their output), and is applied
// only to the 2.2.4 original it was written against. Plain Node, no dependencies of its own.
//
// - grouping: a send's messages were grouped by partition with `[...current, message]` inside a reduce,
//   which copies the partition's array once per message, quadratic in the messages of one send
//   (streamscore sends a whole Kafka batch of predictions at once). The linear rewrite proposed upstream
//   (tulios/kafkajs#1576) was never merged.
// - encoding: every record was encoded into an encoder of its own, zero-filled at 512 bytes, plus one per
//   header; every varint allocated an array and a Buffer; every 64-bit varint went through a Long
//   emulation; and the produce request spread each message into a new object. Now: one encoder sized to
//   the record, headers written into it, varints written in place, small 64-bit varints (all timestamp
//   deltas of a batch but pathological ones) written as the 32-bit ones they equal, encoder buffers
//   allocated without zero-filling (only the bytes written are ever read), and the record's five fields
//   passed by name.
// - decoding (scripts/patch-kafkajs-decoding.mjs): records read in place, offsets and timestamps added as
//   numbers instead of through the 64-bit emulation.
// - checksum (scripts/patch-kafkajs-checksum.mjs): CRC-32C eight bytes a step instead of one.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CHECKSUM_PATCHES } from './patch-kafkajs-checksum.mjs';
import { DECODING_PATCHES } from './patch-kafkajs-decoding.mjs';

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

const RECORD_ORIGINAL = `const Encoder = require('../../../encoder')
const Header = require('../../header/v0')

/**
 * v0
 * Record =>
 *   Length => Varint
 *   Attributes => Int8
 *   TimestampDelta => Varlong
 *   OffsetDelta => Varint
 *   Key => varInt|Bytes
 *   Value => varInt|Bytes
 *   Headers => [HeaderKey HeaderValue]
 *     HeaderKey => VarInt|String
 *     HeaderValue => VarInt|Bytes
 */

/**
 * @param [offsetDelta=0] {Integer}
 * @param [timestampDelta=0] {Long}
 * @param key {Buffer}
 * @param value {Buffer}
 * @param [headers={}] {Object}
 */
module.exports = ({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }) => {
  const headersArray = Object.keys(headers).flatMap(headerKey =>
    !Array.isArray(headers[headerKey])
      ? [{ key: headerKey, value: headers[headerKey] }]
      : headers[headerKey].map(headerValue => ({ key: headerKey, value: headerValue }))
  )

  const sizeOfBody =
    1 + // always one byte for attributes
    Encoder.sizeOfVarLong(timestampDelta) +
    Encoder.sizeOfVarInt(offsetDelta) +
    Encoder.sizeOfVarIntBytes(key) +
    Encoder.sizeOfVarIntBytes(value) +
    sizeOfHeaders(headersArray)

  return new Encoder()
    .writeVarInt(sizeOfBody)
    .writeInt8(0) // no used record attributes at the moment
    .writeVarLong(timestampDelta)
    .writeVarInt(offsetDelta)
    .writeVarIntBytes(key)
    .writeVarIntBytes(value)
    .writeVarIntArray(headersArray.map(Header))
}

const sizeOfHeaders = headersArray => {
  let size = Encoder.sizeOfVarInt(headersArray.length)

  for (const header of headersArray) {
    const keySize = Buffer.byteLength(header.key)
    const valueSize = Buffer.byteLength(header.value)

    size += Encoder.sizeOfVarInt(keySize) + keySize

    if (header.value === null) {
      size += Encoder.sizeOfVarInt(-1)
    } else {
      size += Encoder.sizeOfVarInt(valueSize) + valueSize
    }
  }

  return size
}
`;

const RECORD_SIZED = `const Encoder = require('../../../encoder')

/**
 * v0
 * Record =>
 *   Length => Varint
 *   Attributes => Int8
 *   TimestampDelta => Varlong
 *   OffsetDelta => Varint
 *   Key => varInt|Bytes
 *   Value => varInt|Bytes
 *   Headers => [HeaderKey HeaderValue]
 *     HeaderKey => VarInt|String
 *     HeaderValue => VarInt|Bytes
 */

module.exports = ({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }) => {
  const headerKeys = Object.keys(headers)
  let headerCount = 0
  let sizeOfHeaders = 0
  for (const headerKey of headerKeys) {
    const headerValue = headers[headerKey]
    if (Array.isArray(headerValue)) {
      for (const each of headerValue) {
        headerCount += 1
        sizeOfHeaders += sizeOfHeader(headerKey, each)
      }
    } else {
      headerCount += 1
      sizeOfHeaders += sizeOfHeader(headerKey, headerValue)
    }
  }

  const sizeOfBody =
    1 + // always one byte for attributes
    Encoder.sizeOfVarLong(timestampDelta) +
    Encoder.sizeOfVarInt(offsetDelta) +
    Encoder.sizeOfVarIntBytes(key) +
    Encoder.sizeOfVarIntBytes(value) +
    Encoder.sizeOfVarInt(headerCount) +
    sizeOfHeaders

  const encoder = new Encoder(Encoder.sizeOfVarInt(sizeOfBody) + sizeOfBody)
    .writeVarInt(sizeOfBody)
    .writeInt8(0) // no used record attributes at the moment
    .writeVarLong(timestampDelta)
    .writeVarInt(offsetDelta)
    .writeVarIntBytes(key)
    .writeVarIntBytes(value)
    .writeVarInt(headerCount)
  for (const headerKey of headerKeys) {
    const headerValue = headers[headerKey]
    if (Array.isArray(headerValue)) {
      for (const each of headerValue) encoder.writeVarIntString(headerKey).writeVarIntBytes(each)
    } else {
      encoder.writeVarIntString(headerKey).writeVarIntBytes(headerValue)
    }
  }
  return encoder
}

const sizeOfHeader = (key, value) => {
  const keySize = Buffer.byteLength(key)
  const valueSize = Buffer.byteLength(value)
  const sizeOfValue = value === null ? Encoder.sizeOfVarInt(-1) : Encoder.sizeOfVarInt(valueSize) + valueSize
  return Encoder.sizeOfVarInt(keySize) + keySize + sizeOfValue
}
`;

// Below 2^30 in magnitude, a 64-bit zigzag varint has the bytes of the 32-bit one.
const SMALL_VARLONG = `typeof value === 'number' && value >= -0x40000000 && value < 0x40000000`;

const PATCHES = [
  ...DECODING_PATCHES,
  ...CHECKSUM_PATCHES,
  {
    name: 'linear grouping',
    file: 'src/producer/groupMessagesPerPartition.js',
    edits: [[GROUPING_ORIGINAL, GROUPING_LINEAR]],
  },
  {
    name: 'record encoding',
    file: 'src/protocol/recordBatch/record/v0/index.js',
    edits: [[RECORD_ORIGINAL, RECORD_SIZED]],
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
  {
    name: 'record fields by name',
    file: 'src/protocol/requests/produce/v3/request.js',
    edits: [
      [
        `    Record({
      ...message,
      offsetDelta: i,`,
        `    Record({
      key: message.key,
      value: message.value,
      headers: message.headers,
      offsetDelta: i,`,
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
