/**
 * Writes a safetensors file (what Hugging Face loads): an 8-byte little-endian header length, the
 * JSON header ({name: {dtype, shape, data_offsets}}, `__metadata__` {format: 'pt'}, padded with
 * spaces to a multiple of 8 as safetensors' own writer does), then each tensor's bytes back to back.
 * Tensors are produced one at a time, so a large model never sits in memory whole. The file is
 * written beside its final name and renamed when complete.
 */
import fs from 'node:fs';

export interface TensorToWrite {
  name: string;
  dtype: 'F32' | 'F16' | 'BF16';
  shape: number[];
  /** the tensor's bytes in row-major order; called once, when its turn comes */
  bytes(): Uint8Array;
}

const ELEMENT_BYTES = { F32: 4, F16: 2, BF16: 2 } as const;

export function writeSafetensors(file: string, tensors: readonly TensorToWrite[]): void {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const { name, dtype, shape } of tensors) {
    if (name in header) throw new Error(`writeSafetensors: tensor ${name} is listed twice`);
    const size = shape.reduce((a, b) => a * b, ELEMENT_BYTES[dtype]);
    header[name] = { dtype, shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const partial = `${file}.partial`;
  const fd = fs.openSync(partial, 'w');
  try {
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(headerBytes.length));
    fs.writeSync(fd, length);
    fs.writeSync(fd, headerBytes);
    for (const tensor of tensors) {
      const bytes = tensor.bytes();
      const { data_offsets: [begin, end] } = header[tensor.name] as { data_offsets: [number, number] };
      if (bytes.length !== end - begin) throw new Error(`writeSafetensors: tensor ${tensor.name} gave ${bytes.length} bytes for its ${end - begin}`);
      fs.writeSync(fd, bytes);
    }
    fs.fsyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(partial, { force: true });
    throw error;
  }
  fs.closeSync(fd);
  fs.renameSync(partial, file);
}
