/**
 * Avro binary written field by field, for an encoder specialised to one schema (routing/comparisons.ts):
 * what stays the same for a whole batch (a model's name, version and sha256, the source topic, whole runs of
 * fields) is encoded once with the `encoded*` functions and copied in as bytes, where avsc would encode
 * every field of every record.
 * Datums go straight into a shared chunk behind the encoder's prefix, as createPrefixedEncoder's do, and
 * are returned as views of it: a chunk is never written twice.
 */

const CHUNK_BYTES = 64 * 1024;
/** A long's zig-zag varint takes at most 10 bytes. */
export const MAX_LONG_BYTES = 10;
export const DOUBLE_BYTES = 8;

/** A string as Avro writes it: its UTF-8 length as a long, then its bytes. */
export function encodedString(value: string): Buffer {
  const length = Buffer.byteLength(value, 'utf8');
  const bytes = Buffer.allocUnsafe(MAX_LONG_BYTES + length);
  const start = writeLong(bytes, 0, length);
  return bytes.subarray(0, start + bytes.write(value, start, 'utf8'));
}

/** A long (or int, enum index, union branch) as Avro writes it. */
export function encodedLong(value: number): Buffer {
  const bytes = Buffer.allocUnsafe(MAX_LONG_BYTES);
  return bytes.subarray(0, writeLong(bytes, 0, value));
}

export function encodedDouble(value: number): Buffer {
  const bytes = Buffer.allocUnsafe(DOUBLE_BYTES);
  bytes.writeDoubleLE(value, 0);
  return bytes;
}

/** The most bytes `string` can write for `value`: a UTF-16 code unit takes at most 3 UTF-8 bytes. */
export const maxStringBytes = (value: string): number => MAX_LONG_BYTES + 3 * value.length;

/** Writes `value` (an integer of at most 53 bits) as a zig-zag varint at `at`; returns the end. */
function writeLong(buffer: Buffer, at: number, value: number): number {
  let position = at;
  if (value >= -0x40000000 && value < 0x40000000) {
    let zigzag = value >= 0 ? value << 1 : (~value << 1) | 1;
    while (zigzag > 0x7f) {
      buffer[position++] = (zigzag & 0x7f) | 0x80;
      zigzag >>>= 7;
    }
    buffer[position++] = zigzag;
    return position;
  }
  // Past 31 bits the shifts would overflow: the same digits by arithmetic.
  let zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
  while (zigzag >= 0x80) {
    buffer[position++] = (zigzag % 0x80) | 0x80;
    zigzag = Math.floor(zigzag / 0x80);
  }
  buffer[position++] = zigzag;
  return position;
}

const SHORT_STRING = 64;

function isAscii(value: string): boolean {
  for (let index = 0; index < value.length; index++) if (value.charCodeAt(index) > 0x7f) return false;
  return true;
}

export class DatumWriter {
  readonly #prefix: Buffer;
  #chunk = Buffer.allocUnsafe(0);
  #start = 0;
  #position = 0;

  /** `prefix`: the bytes before every datum (the Confluent header, or none). */
  constructor(prefix: Buffer) {
    this.#prefix = prefix;
  }

  /** Starts a datum of at most `maxBytes` (without the prefix), which the writes that follow must keep to. */
  begin(maxBytes: number): void {
    const needed = this.#prefix.length + maxBytes;
    if (this.#chunk.length - this.#position < needed) {
      this.#chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, needed));
      this.#position = 0;
    }
    this.#start = this.#position;
    this.#position += this.#prefix.copy(this.#chunk, this.#position);
  }

  /** Bytes already in Avro form (from encodedString, or a union's branch index). */
  raw(bytes: Uint8Array): void {
    this.#chunk.set(bytes, this.#position);
    this.#position += bytes.length;
  }

  /** An Avro int, long or enum index, or a union's branch index. */
  long(value: number): void {
    this.#position = writeLong(this.#chunk, this.#position, value);
  }

  double(value: number): void {
    this.#position = this.#chunk.writeDoubleLE(value, this.#position);
  }

  string(value: string): void {
    const { length } = value;
    if (length <= SHORT_STRING && isAscii(value)) {
      // Event ids and keys: a byte per character, copied here for less than the native calls cost.
      this.long(length);
      const chunk = this.#chunk;
      let position = this.#position;
      for (let index = 0; index < length; index++) chunk[position++] = value.charCodeAt(index);
      this.#position = position;
      return;
    }
    this.long(Buffer.byteLength(value, 'utf8'));
    this.#position += this.#chunk.write(value, this.#position, 'utf8');
  }

  /** The datum, prefix included, as a view of the chunk. */
  end(): Buffer {
    return this.#chunk.subarray(this.#start, this.#position);
  }
}
