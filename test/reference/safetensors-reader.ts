// Minimal, independent safetensors reader for tests: parses the header and decodes tensors into Float64Array.
// Format: u64 little-endian header length N, N bytes of JSON header
// ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {...}}), then the data buffer
// (offsets are relative to its start), all values little-endian.

import fs from 'node:fs';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export interface SafetensorsTensorInfo {
  dtype: string;
  shape: number[];
  /** byte offsets relative to the start of the data buffer */
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  /** size of the JSON header in bytes (without the 8-byte length) */
  headerLength: number;
  /** absolute file offset of the data buffer */
  dataStart: number;
  tensors: Record<string, SafetensorsTensorInfo>;
  metadata?: Record<string, string>;
}

export interface DecodedTensor {
  dtype: string;
  shape: number[];
  data: Float64Array;
}

const DTYPE_SIZES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** Size in bytes of one element of a safetensors dtype (throws for unknown dtypes). */
export function dtypeSize(dtype: string): number {
  const s = DTYPE_SIZES[dtype];
  if (s === undefined) throw new Error(`safetensors: unsupported dtype ${dtype}`);
  return s;
}

/** Parse and validate the header of a safetensors file held in `buf`. */
export function parseSafetensorsHeader(buf: Uint8Array): SafetensorsHeader {
  if (buf.length < 8) throw new Error('safetensors: file shorter than 8 bytes');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(buf.length - 8)) throw new Error(`safetensors: header length ${n64} exceeds file size ${buf.length}`);
  const headerLength = Number(n64);
  const text = new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + headerLength));
  const json = JSON.parse(text) as Record<string, unknown>;
  const dataStart = 8 + headerLength;
  const dataLength = buf.length - dataStart;
  const tensors: Record<string, SafetensorsTensorInfo> = {};
  let metadata: Record<string, string> | undefined;
  for (const [name, raw] of Object.entries(json)) {
    if (name === '__metadata__') {
      metadata = raw as Record<string, string>;
      continue;
    }
    const info = raw as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const size = dtypeSize(info.dtype);
    if (!Array.isArray(info.shape) || info.shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new Error(`safetensors: bad shape for ${name}`);
    }
    const [begin, end] = info.data_offsets;
    const numel = info.shape.reduce((a, b) => a * b, 1);
    if (!(Number.isInteger(begin) && Number.isInteger(end) && begin >= 0 && end >= begin && end <= dataLength)) {
      throw new Error(`safetensors: bad data_offsets for ${name}: [${begin}, ${end}] (data length ${dataLength})`);
    }
    if (end - begin !== numel * size) {
      throw new Error(`safetensors: ${name} has ${end - begin} bytes, expected ${numel * size} for ${info.dtype}[${info.shape}]`);
    }
    tensors[name] = { dtype: info.dtype, shape: info.shape.slice(), dataOffsets: [begin, end] };
  }
  return { headerLength, dataStart, tensors, metadata };
}

// float16 -> number lookup table (exact: every binary16 value is a double).
let F16_TABLE: Float64Array | undefined;
function f16Table(): Float64Array {
  if (!F16_TABLE) {
    F16_TABLE = new Float64Array(65536);
    for (let h = 0; h < 65536; h++) F16_TABLE[h] = float16BitsToNumber(h);
  }
  return F16_TABLE;
}

/** Value of IEEE binary16 bits. */
export function float16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

const bf16Scratch = new Uint32Array(1);
const bf16ScratchF = new Float32Array(bf16Scratch.buffer);
/** Value of bfloat16 bits (the upper half of a float32). */
export function bfloat16BitsToNumber(h: number): number {
  bf16Scratch[0] = (h & 0xffff) << 16;
  return bf16ScratchF[0];
}

/** Decode `numel` little-endian elements of `dtype` from `bytes` into a new Float64Array. */
export function decodeToFloat64(bytes: Uint8Array, dtype: string, numel: number): Float64Array {
  const out = new Float64Array(numel);
  if (bytes.length !== numel * dtypeSize(dtype)) throw new Error('safetensors: byte length mismatch');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F64':
      for (let i = 0; i < numel; i++) out[i] = dv.getFloat64(i * 8, true);
      break;
    case 'F32':
      for (let i = 0; i < numel; i++) out[i] = dv.getFloat32(i * 4, true);
      break;
    case 'F16': {
      const t = f16Table();
      for (let i = 0; i < numel; i++) out[i] = t[dv.getUint16(i * 2, true)];
      break;
    }
    case 'BF16': {
      const u = new Uint32Array(1);
      const f = new Float32Array(u.buffer);
      for (let i = 0; i < numel; i++) {
        u[0] = dv.getUint16(i * 2, true) << 16;
        out[i] = f[0];
      }
      break;
    }
    case 'I64':
      for (let i = 0; i < numel; i++) out[i] = Number(dv.getBigInt64(i * 8, true));
      break;
    case 'I32':
      for (let i = 0; i < numel; i++) out[i] = dv.getInt32(i * 4, true);
      break;
    case 'I16':
      for (let i = 0; i < numel; i++) out[i] = dv.getInt16(i * 2, true);
      break;
    case 'I8':
      for (let i = 0; i < numel; i++) out[i] = dv.getInt8(i);
      break;
    case 'U8':
    case 'BOOL':
      for (let i = 0; i < numel; i++) out[i] = bytes[i];
      break;
    default:
      throw new Error(`safetensors: unsupported dtype ${dtype}`);
  }
  return out;
}

export class SafetensorsFile {
  readonly header: SafetensorsHeader;
  readonly buffer: Uint8Array;
  readonly path: string | undefined;
  constructor(buffer: Uint8Array, path?: string) {
    this.buffer = buffer;
    this.path = path;
    this.header = parseSafetensorsHeader(buffer);
  }

  get names(): string[] {
    return Object.keys(this.header.tensors);
  }

  has(name: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.header.tensors, name);
  }

  info(name: string): SafetensorsTensorInfo {
    const info = this.header.tensors[name];
    if (!info) throw new Error(`safetensors: no tensor ${name}${this.path ? ` in ${this.path}` : ''}`);
    return info;
  }

  /** Raw little-endian bytes of a tensor (a view into the file buffer). */
  bytes(name: string): Uint8Array {
    const { dataOffsets } = this.info(name);
    return this.buffer.subarray(this.header.dataStart + dataOffsets[0], this.header.dataStart + dataOffsets[1]);
  }

  /** Decode a tensor to float64 values (row-major). */
  read(name: string): DecodedTensor {
    const info = this.info(name);
    const numel = info.shape.reduce((a, b) => a * b, 1);
    return { dtype: info.dtype, shape: info.shape.slice(), data: decodeToFloat64(this.bytes(name), info.dtype, numel) };
  }
}

/** Open (read fully into memory) a safetensors file. */
export function openSafetensors(filePath: string): SafetensorsFile {
  const buf = fs.readFileSync(filePath);
  return new SafetensorsFile(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), filePath);
}

/** Read every tensor of a safetensors file as float64. */
export function readSafetensors(filePath: string): Map<string, DecodedTensor> {
  const f = openSafetensors(filePath);
  const out = new Map<string, DecodedTensor>();
  for (const name of f.names) out.set(name, f.read(name));
  return out;
}
