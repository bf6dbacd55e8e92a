// The consumer side of scripts/patch-kafkajs.mjs: how kafkajs 2.2.4 decodes the records of a fetch. Per
// record it built a Buffer view and a decoder of its own, read the timestamp delta through its 64-bit
// integer class (a BigInt wrapper, one object per byte of the varint), parsed the batch's first offset and
// first timestamp from their decimal strings again for each record, and parsed the offset once more in the
// consumer to drop records below the fetch offset: about 40% of the bytes a scored record allocated.
// Now a record is read in place inside its batch, and a timestamp or offset that fits in a double's 53-bit
// integer range (every real one) is added as a number; anything larger takes the original BigInt path.
// The results are the same strings, buffers and objects.

const RECORD_DECODER_ORIGINAL = `module.exports = (decoder, batchContext = {}) => {
  const {
    firstOffset,
    firstTimestamp,
    magicByte,
    isControlBatch = false,
    timestampType,
    maxTimestamp,
  } = batchContext
  const attributes = decoder.readInt8()

  const timestampDelta = decoder.readVarLong()
  const timestamp =
    timestampType === TimestampTypes.LOG_APPEND_TIME && maxTimestamp
      ? maxTimestamp
      : Long.fromValue(firstTimestamp)
          .add(timestampDelta)
          .toString()

  const offsetDelta = decoder.readVarInt()
  const offset = Long.fromValue(firstOffset)
    .add(offsetDelta)
    .toString()

  const key = decoder.readVarIntBytes()
  const value = decoder.readVarIntBytes()
  const headers = decoder.readVarIntArray(HeaderDecoder).reduce(
    (obj, { key, value }) => ({
      ...obj,
      [key]:
        obj[key] === undefined
          ? value
          : Array.isArray(obj[key])
          ? obj[key].concat([value])
          : [obj[key], value],
    }),
    {}
  )

  return {
    magicByte,
    attributes, // Record level attributes are presently unused
    timestamp,
    offset,
    key,
    value,
    headers,
    isControlRecord: isControlBatch,
    batchContext,
  }
}
`;

const RECORD_DECODER_NUMERIC = `// A zigzag varlong of at most 7 bytes holds 49 bits, which a number holds exactly. Returns undefined, the
// offset unmoved, for a longer one; a missing byte ends the varint, as in Decoder.readVarLong.
const readShortVarLong = decoder => {
  const buffer = decoder.buffer
  let offset = decoder.offset
  let unsigned = 0
  let scale = 1
  for (let index = 0; index < 7; index++) {
    const byte = buffer[offset++]
    unsigned += (byte & 0x7f) * scale
    if (!(byte >= 0x80)) {
      decoder.offset = offset
      return unsigned % 2 === 0 ? unsigned / 2 : -(unsigned + 1) / 2
    }
    scale *= 0x80
  }
  return undefined
}

// The decimal \`base\` (an int64 of the batch header) plus \`delta\`, as Long.fromValue(base).add(delta).toString().
const addToDecimal = (base, delta) => {
  if (typeof delta === 'number') {
    const first = Number(base)
    const sum = first + delta
    if (typeof base === 'string' && Number.isSafeInteger(first) && Number.isSafeInteger(sum)) return String(sum)
  }
  return Long.fromValue(base)
    .add(delta)
    .toString()
}

const sameKeyHeaders = (obj, { key, value }) => ({
  ...obj,
  [key]:
    obj[key] === undefined
      ? value
      : Array.isArray(obj[key])
      ? obj[key].concat([value])
      : [obj[key], value],
})

module.exports = (decoder, batchContext = {}) => {
  const {
    firstOffset,
    firstTimestamp,
    magicByte,
    isControlBatch = false,
    timestampType,
    maxTimestamp,
  } = batchContext
  const attributes = decoder.readInt8()

  const shortDelta = readShortVarLong(decoder)
  const timestampDelta = shortDelta === undefined ? decoder.readVarLong() : shortDelta
  const timestamp =
    timestampType === TimestampTypes.LOG_APPEND_TIME && maxTimestamp
      ? maxTimestamp
      : addToDecimal(firstTimestamp, timestampDelta)

  const offsetDelta = decoder.readVarInt()
  const offset = addToDecimal(firstOffset, offsetDelta)

  const key = decoder.readVarIntBytes()
  const value = decoder.readVarIntBytes()
  const headerCount = decoder.readVarInt()
  let headers = {}
  if (headerCount > 0) {
    const headerList = new Array(headerCount)
    for (let index = 0; index < headerCount; index++) headerList[index] = HeaderDecoder(decoder)
    headers = headerList.reduce(sameKeyHeaders, headers)
  }

  return {
    magicByte,
    attributes, // Record level attributes are presently unused
    timestamp,
    offset,
    key,
    value,
    headers,
    isControlRecord: isControlBatch,
    batchContext,
  }
}
`;

const DECODE_RECORD_ORIGINAL = `const decodeRecord = (decoder, recordContext) => {
  const recordBuffer = decoder.readVarIntBytes()
  return RecordDecoder(new Decoder(recordBuffer), recordContext)
}
`;

const DECODE_RECORD_IN_PLACE = `// A record lies whole inside its batch's bytes, so it is read where it is; a length that is negative or runs
// past the batch takes the original path, and fails as it did.
const decodeRecord = (decoder, recordContext) => {
  const start = decoder.offset
  const length = decoder.readVarInt()
  const end = decoder.offset + length
  if (length < 0 || end > decoder.buffer.length) {
    decoder.offset = start
    const recordBuffer = decoder.readVarIntBytes()
    return RecordDecoder(new Decoder(recordBuffer), recordContext)
  }
  const record = RecordDecoder(decoder, recordContext)
  decoder.offset = end
  return record
}
`;

const WITHIN_OFFSET_ORIGINAL = `    this.messagesWithinOffset = this.rawMessages.filter(message =>
      Long.fromValue(message.offset).gte(longFetchedOffset)
    )
`;

const WITHIN_OFFSET_NUMERIC = `    const fetchedNumber = Number(this.fetchedOffset)
    const numeric = Number.isSafeInteger(fetchedNumber)
    this.messagesWithinOffset = this.rawMessages.filter(message => {
      const offset = Number(message.offset)
      return numeric && Number.isSafeInteger(offset)
        ? offset >= fetchedNumber
        : Long.fromValue(message.offset).gte(longFetchedOffset)
    })
`;

export const DECODING_PATCHES = [
  {
    name: 'record decoding',
    file: 'src/protocol/recordBatch/record/v0/decoder.js',
    edits: [[RECORD_DECODER_ORIGINAL, RECORD_DECODER_NUMERIC]],
  },
  {
    name: 'records read in place',
    file: 'src/protocol/recordBatch/v0/decoder.js',
    edits: [[DECODE_RECORD_ORIGINAL, DECODE_RECORD_IN_PLACE]],
  },
  {
    name: 'offsets compared as numbers',
    file: 'src/consumer/batch.js',
    edits: [[WITHIN_OFFSET_ORIGINAL, WITHIN_OFFSET_NUMERIC]],
  },
];
