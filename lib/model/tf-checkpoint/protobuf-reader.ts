/**
 * Just enough of protobuf's wire format to read TensorFlow's bundle protos: varints, fixed32/64 and
 * length-delimited fields, every read bounds-checked. Malformed bytes throw ProtobufError, which the
 * caller turns into a coded error naming the file and the entry.
 */
export class ProtobufError extends Error {}

export const WireType = { Varint: 0, Fixed64: 1, LengthDelimited: 2, Fixed32: 5 } as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

export interface ProtobufField {
  number: number;
  wireType: WireType;
  /** varint and fixed values; for length-delimited fields, the length */
  value: number;
  /** length-delimited fields: their bytes */
  bytes?: Uint8Array;
}

/** A varint as a number; values above 2^53 (a negative int64, or garbage) are refused. */
export function readVarint(bytes: Uint8Array, offset: number, what: string): { value: number; next: number } {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (offset + i >= bytes.length) throw new ProtobufError(`${what} ends inside a varint`);
    const byte = bytes[offset + i];
    value += (byte & 0x7f) * scale;
    if (!Number.isSafeInteger(value)) throw new ProtobufError(`${what} holds a varint above 2^53 (a negative or corrupted value)`);
    if ((byte & 0x80) === 0) return { value, next: offset + i + 1 };
    scale *= 128;
  }
  throw new ProtobufError(`${what} holds a varint longer than 10 bytes`);
}

/** Every field of one message, in order; unknown fields are the caller's to skip. */
export function readFields(bytes: Uint8Array, what: string): ProtobufField[] {
  const fields: ProtobufField[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const key = readVarint(bytes, offset, what);
    offset = key.next;
    const number = Math.floor(key.value / 8);
    const wireType = key.value % 8;
    if (wireType !== WireType.Varint && wireType !== WireType.Fixed32 && wireType !== WireType.Fixed64 && wireType !== WireType.LengthDelimited) {
      throw new ProtobufError(`${what} holds wire type ${wireType}, which these messages never use`);
    }
    if (number === 0) throw new ProtobufError(`${what} holds a field number 0`);
    if (wireType === WireType.Varint) {
      const varint = readVarint(bytes, offset, what);
      fields.push({ number, wireType, value: varint.value });
      offset = varint.next;
    } else if (wireType === WireType.Fixed32 || wireType === WireType.Fixed64) {
      const size = wireType === WireType.Fixed32 ? 4 : 8;
      if (offset + size > bytes.length) throw new ProtobufError(`${what} ends inside a fixed-size field`);
      const view = new DataView(bytes.buffer, bytes.byteOffset + offset, size);
      const value = size === 4 ? view.getUint32(0, true) : Number(view.getBigUint64(0, true));
      fields.push({ number, wireType, value });
      offset += size;
    } else {
      const length = readVarint(bytes, offset, what);
      offset = length.next;
      if (length.value > bytes.length - offset) throw new ProtobufError(`${what} has a field of ${length.value} bytes where ${bytes.length - offset} remain`);
      fields.push({ number, wireType, value: length.value, bytes: bytes.subarray(offset, offset + length.value) });
      offset += length.value;
    }
  }
  return fields;
}

/** The last occurrence of a scalar field (protobuf's rule), checked for its wire type; `fallback` when absent. */
export function scalarField(fields: ProtobufField[], number: number, wireType: WireType, fallback: number, what: string): number {
  let value = fallback;
  for (const field of fields) {
    if (field.number !== number) continue;
    if (field.wireType !== wireType) throw new ProtobufError(`${what}: field ${number} has wire type ${field.wireType}; expected ${wireType}`);
    value = field.value;
  }
  return value;
}

/** Every occurrence of a message field, as bytes. */
export function messageFields(fields: ProtobufField[], number: number, what: string): Uint8Array[] {
  return fields
    .filter((field) => field.number === number)
    .map((field) => {
      if (field.bytes === undefined) throw new ProtobufError(`${what}: field ${number} is not a message`);
      return field.bytes;
    });
}
