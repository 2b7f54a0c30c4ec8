/**
 * Reads a LevelDB-format table, the layout of a TensorFlow checkpoint's `.index` file (TF's
 * tensorflow/core/lib/io/table is LevelDB's format): a 48-byte footer (the metaindex and index
 * block handles, padding, the magic number), an index block whose values are the handles of the
 * data blocks, and data blocks of prefix-compressed key/value entries ending in a restart array.
 * Every block is followed by a compression byte and the masked CRC-32C of the block and that byte.
 * All reads are bounds-checked; a malformed table throws TableError.
 */
import { crc32c, extendCrc32c, unmaskCrc32c } from './crc32c.js';
import { ProtobufError, readVarint } from './protobuf-reader.js';

export class TableError extends Error {}

const FOOTER_BYTES = 48;
/** kTableMagicNumber, stored little-endian in the footer's last 8 bytes. */
const MAGIC = 0xdb4775248b80fb57n;
const TRAILER_BYTES = 5;
const NO_COMPRESSION = 0;
const SNAPPY_COMPRESSION = 1;

interface BlockHandle {
  offset: number;
  size: number;
}

export interface TableEntry {
  key: Uint8Array;
  value: Uint8Array;
}

function varint(bytes: Uint8Array, offset: number, what: string): { value: number; next: number } {
  try {
    return readVarint(bytes, offset, what);
  } catch (error) {
    if (error instanceof ProtobufError) throw new TableError(error.message);
    throw error;
  }
}

function decodeHandle(bytes: Uint8Array, offset: number, what: string): { handle: BlockHandle; next: number } {
  const blockOffset = varint(bytes, offset, what);
  const size = varint(bytes, blockOffset.next, what);
  return { handle: { offset: blockOffset.value, size: size.value }, next: size.next };
}

/** A block's contents, after its trailer's compression type and checksum are checked. */
function readBlock(file: Uint8Array, handle: BlockHandle, limit: number, what: string): Uint8Array {
  if (handle.offset > limit || handle.size > limit - handle.offset || TRAILER_BYTES > limit - handle.offset - handle.size) {
    throw new TableError(`the ${what} block [${handle.offset}, +${handle.size}] lies outside the ${limit} bytes before the footer`);
  }
  const contents = file.subarray(handle.offset, handle.offset + handle.size);
  const type = file[handle.offset + handle.size];
  const stored = new DataView(file.buffer, file.byteOffset + handle.offset + handle.size + 1, 4).getUint32(0, true);
  const actual = extendCrc32c(crc32c(contents), Uint8Array.of(type));
  if (unmaskCrc32c(stored) !== actual) {
    throw new TableError(`the ${what} block at byte ${handle.offset} fails its CRC-32C check: the file is corrupted`);
  }
  if (type === SNAPPY_COMPRESSION) {
    throw new TableError(`the ${what} block at byte ${handle.offset} is snappy-compressed; TensorFlow writes checkpoint indexes uncompressed and this reader reads only those`);
  }
  if (type !== NO_COMPRESSION) throw new TableError(`the ${what} block at byte ${handle.offset} has unknown compression type ${type}`);
  return contents;
}

/** The entries of one block, keys restored from their shared prefixes. */
function blockEntries(block: Uint8Array, what: string): TableEntry[] {
  if (block.length < 4) throw new TableError(`the ${what} block is ${block.length} bytes, too short for its restart count`);
  const view = new DataView(block.buffer, block.byteOffset, block.length);
  const restarts = view.getUint32(block.length - 4, true);
  if (restarts > (block.length - 4) / 4) throw new TableError(`the ${what} block claims ${restarts} restart points in ${block.length} bytes`);
  const end = block.length - 4 - 4 * restarts;
  const entries: TableEntry[] = [];
  let previous: Uint8Array = new Uint8Array(0);
  let offset = 0;
  while (offset < end) {
    const shared = varint(block, offset, `the ${what} block`);
    const unshared = varint(block, shared.next, `the ${what} block`);
    const valueLength = varint(block, unshared.next, `the ${what} block`);
    offset = valueLength.next;
    if (shared.value > previous.length) throw new TableError(`an entry of the ${what} block shares ${shared.value} bytes of a ${previous.length}-byte key`);
    if (unshared.value > end - offset || valueLength.value > end - offset - unshared.value) {
      throw new TableError(`an entry of the ${what} block runs past the block's end`);
    }
    const key = new Uint8Array(shared.value + unshared.value);
    key.set(previous.subarray(0, shared.value));
    key.set(block.subarray(offset, offset + unshared.value), shared.value);
    offset += unshared.value;
    entries.push({ key, value: block.subarray(offset, offset + valueLength.value) });
    offset += valueLength.value;
    previous = key;
  }
  return entries;
}

function compareKeys(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** Every entry of the table, in key order (checked: a table's keys are sorted and distinct). */
export function readTable(file: Uint8Array): TableEntry[] {
  if (file.length < FOOTER_BYTES) throw new TableError(`is ${file.length} bytes, shorter than a table's ${FOOTER_BYTES}-byte footer`);
  const footerStart = file.length - FOOTER_BYTES;
  const footer = file.subarray(footerStart);
  const magic = new DataView(footer.buffer, footer.byteOffset + 40, 8).getBigUint64(0, true);
  if (magic !== MAGIC) throw new TableError('does not end with the LevelDB table magic number: it is not a TensorFlow checkpoint index, or it is truncated');
  const metaindex = decodeHandle(footer, 0, 'the footer');
  const { handle: indexHandle } = decodeHandle(footer, metaindex.next, 'the footer');
  const entries: TableEntry[] = [];
  for (const { value } of blockEntries(readBlock(file, indexHandle, footerStart, 'index'), 'index')) {
    const { handle } = decodeHandle(value, 0, 'an index entry');
    for (const entry of blockEntries(readBlock(file, handle, footerStart, 'data'), 'data')) {
      const last = entries[entries.length - 1];
      if (last && compareKeys(last.key, entry.key) >= 0) throw new TableError('has keys out of order: the file is corrupted');
      entries.push(entry);
    }
  }
  return entries;
}
