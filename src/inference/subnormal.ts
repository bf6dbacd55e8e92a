/**
 * Subnormal weights set to zero before onnxruntime sees a model. A float below the smallest normal one
 * (about 1.2e-38 in float32) adds nothing a score can show, but every multiplication by one takes a slow
 * path on many x86 CPUs: a scikit-learn MLP whose L2 penalty left a third of a layer's weights subnormal
 * ran ten times slower on an Intel Xeon than with them at zero (models/README.md, "Subnormal weights").
 * onnxruntime's own switch for this covers its pool threads only, not the thread that calls run(), which
 * with one intra-op thread does all the work; so the weights themselves are changed, in memory, after the
 * file's checksum was verified against its manifest.
 *
 * The model is ONNX's protobuf: this walks the graph's initializers and the tensors and floats of its
 * nodes' attributes (subgraphs included), and rewrites subnormal float and double values in place, in a
 * copy made only when there is one. A file it cannot walk is handed over as it is, for onnxruntime to say
 * what is wrong with it.
 */

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

// Field numbers of onnx.proto3.
const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const GRAPH_INITIALIZER = 5;
const NODE_ATTRIBUTE = 5;
const ATTRIBUTE_FLOAT = 2;
const ATTRIBUTE_TENSOR = 5;
const ATTRIBUTE_GRAPH = 6;
const ATTRIBUTE_FLOATS = 7;
const ATTRIBUTE_TENSORS = 10;
const ATTRIBUTE_GRAPHS = 11;
const TENSOR_DATA_TYPE = 2;
const TENSOR_FLOAT_DATA = 4;
const TENSOR_RAW_DATA = 9;
const TENSOR_DOUBLE_DATA = 10;
const DATA_TYPE_FLOAT = 1;
const DATA_TYPE_DOUBLE = 11;

/** A run of little-endian floats (4 bytes each) or doubles (8) in the model's bytes. */
interface FloatRun {
  start: number;
  end: number;
  bytesPerValue: 4 | 8;
}

interface Field {
  number: number;
  wire: number;
  /** The varint's value; 0 for the other wire types, whose payload is start..end. */
  value: number;
  /** Where the field's payload starts and ends (the fixed bytes, or the length-delimited bytes). */
  start: number;
  end: number;
}

class Unwalkable extends Error {}

function readVarint(bytes: Uint8Array, at: number): { value: number; next: number } {
  let value = 0;
  let scale = 1;
  for (let index = at; index < bytes.length && index < at + 10; index++) {
    const byte = bytes[index]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return { value, next: index + 1 };
    scale *= 128;
  }
  throw new Unwalkable('truncated varint');
}

function* fieldsOf(bytes: Uint8Array, start: number, end: number): Generator<Field> {
  let at = start;
  while (at < end) {
    const key = readVarint(bytes, at);
    const number = Math.floor(key.value / 8);
    const wire = key.value % 8;
    at = key.next;
    if (wire === WIRE_VARINT) {
      const varint = readVarint(bytes, at);
      yield { number, wire, value: varint.value, start: at, end: varint.next };
      at = varint.next;
    } else if (wire === WIRE_FIXED64 || wire === WIRE_FIXED32) {
      const size = wire === WIRE_FIXED64 ? 8 : 4;
      if (at + size > end) throw new Unwalkable('field past its message');
      yield { number, wire, value: 0, start: at, end: at + size };
      at += size;
    } else if (wire === WIRE_LENGTH_DELIMITED) {
      const length = readVarint(bytes, at);
      const payloadEnd = length.next + length.value;
      if (payloadEnd > end) throw new Unwalkable('field past its message');
      yield { number, wire, value: 0, start: length.next, end: payloadEnd };
      at = payloadEnd;
    } else {
      throw new Unwalkable(`wire type ${wire}`);
    }
  }
  if (at !== end) throw new Unwalkable('field past its message');
}

const isMessage = (field: Field) => field.wire === WIRE_LENGTH_DELIMITED;

/** A field of floats (4) or doubles (8): packed, or one fixed-size value. */
function addFloatRun(field: Field, bytesPerValue: 4 | 8, runs: FloatRun[]): void {
  const single = bytesPerValue === 4 ? WIRE_FIXED32 : WIRE_FIXED64;
  if (field.wire === WIRE_LENGTH_DELIMITED || field.wire === single)
    runs.push({ start: field.start, end: field.end, bytesPerValue });
}

function tensorRuns(bytes: Uint8Array, tensor: Field, runs: FloatRun[]): void {
  let dataType = 0;
  const raw: Field[] = [];
  for (const field of fieldsOf(bytes, tensor.start, tensor.end)) {
    if (field.number === TENSOR_DATA_TYPE && field.wire === WIRE_VARINT) dataType = field.value;
    else if (field.number === TENSOR_RAW_DATA && isMessage(field)) raw.push(field);
    else if (field.number === TENSOR_FLOAT_DATA) addFloatRun(field, 4, runs);
    else if (field.number === TENSOR_DOUBLE_DATA) addFloatRun(field, 8, runs);
  }
  // raw_data holds the tensor's values as its type lays them out; only float and double ones are ours.
  const bytesPerValue = dataType === DATA_TYPE_FLOAT ? 4 : dataType === DATA_TYPE_DOUBLE ? 8 : undefined;
  if (bytesPerValue !== undefined) for (const data of raw) addFloatRun(data, bytesPerValue, runs);
}

function attributeRuns(bytes: Uint8Array, attribute: Field, runs: FloatRun[]): void {
  for (const field of fieldsOf(bytes, attribute.start, attribute.end)) {
    if (field.number === ATTRIBUTE_FLOAT || field.number === ATTRIBUTE_FLOATS) addFloatRun(field, 4, runs);
    else if (!isMessage(field)) continue;
    else if (field.number === ATTRIBUTE_TENSOR || field.number === ATTRIBUTE_TENSORS)
      tensorRuns(bytes, field, runs);
    else if (field.number === ATTRIBUTE_GRAPH || field.number === ATTRIBUTE_GRAPHS)
      graphRuns(bytes, field, runs);
  }
}

function graphRuns(bytes: Uint8Array, graph: Field, runs: FloatRun[]): void {
  for (const field of fieldsOf(bytes, graph.start, graph.end)) {
    if (!isMessage(field)) continue;
    if (field.number === GRAPH_INITIALIZER) tensorRuns(bytes, field, runs);
    else if (field.number === GRAPH_NODE) {
      for (const nodeField of fieldsOf(bytes, field.start, field.end))
        if (nodeField.number === NODE_ATTRIBUTE && isMessage(nodeField))
          attributeRuns(bytes, nodeField, runs);
    }
  }
}

function isSubnormal(view: DataView, at: number, bytesPerValue: 4 | 8): boolean {
  if (bytesPerValue === 4) {
    const bits = view.getUint32(at, true);
    return (bits & 0x7f800000) === 0 && (bits & 0x007fffff) !== 0;
  }
  const low = view.getUint32(at, true);
  const high = view.getUint32(at + 4, true);
  return (high & 0x7ff00000) === 0 && ((high & 0x000fffff) !== 0 || low !== 0);
}

/** Calls `each` with the offset of every subnormal value of the runs. */
function forEachSubnormal(
  view: DataView,
  runs: readonly FloatRun[],
  each: (at: number, size: 4 | 8) => void,
) {
  for (const { start, end, bytesPerValue } of runs) {
    for (let at = start; at + bytesPerValue <= end; at += bytesPerValue)
      if (isSubnormal(view, at, bytesPerValue)) each(at, bytesPerValue);
  }
}

export interface RunnableModel {
  /** The model's bytes with its subnormal weights at zero: the bytes given when there were none. */
  bytes: Uint8Array;
  zeroedWeights: number;
}

export function zeroSubnormalWeights(model: Uint8Array): RunnableModel {
  const runs: FloatRun[] = [];
  try {
    for (const field of fieldsOf(model, 0, model.length))
      if (field.number === MODEL_GRAPH && isMessage(field)) graphRuns(model, field, runs);
  } catch (error) {
    if (error instanceof Unwalkable) return { bytes: model, zeroedWeights: 0 };
    throw error;
  }
  let zeroedWeights = 0;
  forEachSubnormal(new DataView(model.buffer, model.byteOffset, model.byteLength), runs, () => {
    zeroedWeights += 1;
  });
  if (zeroedWeights === 0) return { bytes: model, zeroedWeights };
  const bytes = Uint8Array.from(model);
  forEachSubnormal(new DataView(bytes.buffer), runs, (at, size) => bytes.fill(0, at, at + size));
  return { bytes, zeroedWeights };
}
