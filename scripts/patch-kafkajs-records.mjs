// The producer's records (part of scripts/patch-kafkajs.mjs). kafkajs 2.2.4 encoded every record of a
// produce request into an encoder of its own (zero-filled at 512 bytes, plus one per header), spread each
// message into a new object for it, then copied every record into the batch: an encoder, a buffer and a
// view per record, a quarter of the bytes a scored record allocated. Now the request writes a partition's
// records one after another into one encoder, sized for their keys and values, and the batch copies it
// once; Record() itself writes into a fresh encoder grown once to hold the record. The bytes are the same.

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

const RECORD_IN_PLACE = `const Encoder = require('../../../encoder')

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

const NO_HEADERS = {}
const NO_HEADER_KEYS = []

const sizeOfHeader = (key, value) => {
  const keySize = Buffer.byteLength(key)
  const valueSize = Buffer.byteLength(value)
  const sizeOfValue = value === null ? Encoder.sizeOfVarInt(-1) : Encoder.sizeOfVarInt(valueSize) + valueSize
  return Encoder.sizeOfVarInt(keySize) + keySize + sizeOfValue
}

// Writes one record at the end of \`encoder\`, grown at most once to hold it.
const writeInto = (encoder, offsetDelta, timestampDelta, key, value, headers = NO_HEADERS) => {
  const headerKeys = headers === NO_HEADERS ? NO_HEADER_KEYS : Object.keys(headers)
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

  encoder.ensureAvailable(Encoder.sizeOfVarInt(sizeOfBody) + sizeOfBody)
  encoder
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

module.exports = ({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }) =>
  writeInto(new Encoder(1), offsetDelta, timestampDelta, key, value, headers)

module.exports.writeInto = writeInto
`;

const REQUEST_ORIGINAL = `  const records = messages.map((message, i) =>
    Record({
      ...message,
      offsetDelta: i,
      timestampDelta: (message.timestamp || dateNow) - firstTimestamp,
    })
  )

  const recordBatch = await RecordBatch({
    compression,
    records,
    firstTimestamp,
    maxTimestamp,
    producerId,
    producerEpoch,
    firstSequence,
    transactional: !!transactionalId,
    lastOffsetDelta: records.length - 1,
  })
`;

const REQUEST_ONE_ENCODER = `  // Every record written into one encoder, sized for the keys and values (it grows if headers need more).
  let expectedBytes = 0
  for (const message of messages) {
    expectedBytes += RECORD_OVERHEAD_BYTES + lengthOf(message.key) + lengthOf(message.value)
  }
  const encoded = new Encoder(expectedBytes)
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]
    const timestampDelta = (message.timestamp || dateNow) - firstTimestamp
    Record.writeInto(encoded, i, timestampDelta, message.key, message.value, message.headers)
  }
  const records = { count: messages.length, encoded }

  const recordBatch = await RecordBatch({
    compression,
    records,
    firstTimestamp,
    maxTimestamp,
    producerId,
    producerEpoch,
    firstSequence,
    transactional: !!transactionalId,
    lastOffsetDelta: messages.length - 1,
  })
`;

const REQUEST_HELPERS_ORIGINAL = `const topicEncoder = compression => async ({`;

const REQUEST_HELPERS = `// About what a record adds to its key and value: its length, attributes, deltas and the lengths of its key,
// value and header count (up to 36 bytes; the encoder grows when the estimate falls short).
const RECORD_OVERHEAD_BYTES = 32
const lengthOf = bytes => (bytes == null ? 0 : bytes.length)

const topicEncoder = compression => async ({`;

const BATCH_RECORDS_ORIGINAL = `  if (compression === Compression.None) {
    if (records.every(v => typeof v === typeof records[0])) {`;

const BATCH_RECORDS_ENCODED = `  if (records.encoded !== undefined) {
    // Written into one encoder by the produce request: their count, then their bytes, copied once.
    batchBody.writeInt32(records.count)
    if (compression === Compression.None) batchBody.writeEncoder(records.encoded)
    else batchBody.writeBuffer(await lookupCodec(compression).compress(records.encoded))
  } else if (compression === Compression.None) {
    if (records.every(v => typeof v === typeof records[0])) {`;

export const RECORD_PATCHES = [
  {
    name: 'records written in place',
    file: 'src/protocol/recordBatch/record/v0/index.js',
    edits: [[RECORD_ORIGINAL, RECORD_IN_PLACE]],
  },
  {
    name: 'records of a request in one encoder',
    file: 'src/protocol/requests/produce/v3/request.js',
    edits: [
      [REQUEST_ORIGINAL, REQUEST_ONE_ENCODER],
      [REQUEST_HELPERS_ORIGINAL, REQUEST_HELPERS],
    ],
  },
  {
    name: 'batch of records written in one encoder',
    file: 'src/protocol/recordBatch/v0/index.js',
    edits: [[BATCH_RECORDS_ORIGINAL, BATCH_RECORDS_ENCODED]],
  },
];
