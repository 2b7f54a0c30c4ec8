/**
 * A TensorFlow V2 checkpoint (a tensor bundle): `PREFIX.index`, a table from tensor names to where
 * their bytes lie, and the data shards `PREFIX.data-0000K-of-0000N`. Everything the index says is
 * held against the shards' sizes here; the bytes' checksums are checked when they are read.
 */
import fs from 'node:fs';
import { BertEmbedError } from '../../errors.js';
import { decodeBundleEntry, decodeBundleHeader, type BundleEntry } from './bundle-protos.js';
import { readTable, TableError } from './leveldb-table.js';
import { ProtobufError } from './protobuf-reader.js';

/** An index bigger than this is not a checkpoint's (bert-large's is about 30 KB). */
const MAX_INDEX_BYTES = 256 << 20;
/** TensorFlow's kTensorBundleVersion: the newest bundle format this reader knows. */
const BUNDLE_VERSION = 1;

export interface BundleTensor extends BundleEntry {
  /** the data shard that holds it */
  file: string;
}

export interface TensorBundle {
  indexFile: string;
  tensors: Map<string, BundleTensor>;
}

export function indexFormatError(file: string, message: string): BertEmbedError {
  return new BertEmbedError(`${file}: ${message}`, 'ERR_MODEL_FORMAT');
}

export function shardFile(prefix: string, shard: number, shards: number): string {
  const pad = (n: number) => String(n).padStart(5, '0');
  return `${prefix}.data-${pad(shard)}-of-${pad(shards)}`;
}

function readIndexFile(file: string): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new BertEmbedError(`${file} cannot be opened (${code ?? (error as Error).message})`, code === 'ENOENT' ? 'ERR_MODEL_NOT_FOUND' : 'ERR_MODEL_LOAD', { cause: error });
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new BertEmbedError(`${file} is not a regular file`, 'ERR_MODEL_LOAD');
    if (stat.size > MAX_INDEX_BYTES) throw indexFormatError(file, `is ${stat.size} bytes; a checkpoint index is far smaller (at most ${MAX_INDEX_BYTES} accepted)`);
    const bytes = Buffer.alloc(stat.size);
    if (fs.readSync(fd, bytes, 0, bytes.length, 0) !== bytes.length) throw indexFormatError(file, 'changed size while being read');
    return bytes;
  } finally {
    fs.closeSync(fd);
  }
}

/** The size of every data shard, each checked to be a regular file. */
function shardSizes(prefix: string, shards: number): number[] {
  const sizes: number[] = [];
  for (let shard = 0; shard < shards; shard++) {
    const file = shardFile(prefix, shard, shards);
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    if (!stat) throw new BertEmbedError(`${file} does not exist: the checkpoint's index names ${shards} data shard${shards === 1 ? '' : 's'}`, 'ERR_MODEL_NOT_FOUND');
    if (!stat.isFile()) throw new BertEmbedError(`${file} is not a regular file`, 'ERR_MODEL_LOAD');
    sizes.push(stat.size);
  }
  return sizes;
}

const utf8 = new TextDecoder('utf-8');

/** Reads `prefix.index` and checks every entry's place in its shard. */
export function readTensorBundle(prefix: string): TensorBundle {
  const indexFile = `${prefix}.index`;
  const bytes = readIndexFile(indexFile);
  try {
    const entries = readTable(bytes);
    const headerEntry = entries.find((entry) => entry.key.length === 0);
    if (!headerEntry) throw indexFormatError(indexFile, 'has no bundle header (the entry under the empty key): it is not a TensorFlow V2 checkpoint index');
    const header = decodeBundleHeader(headerEntry.value);
    if (header.endianness !== 0) throw indexFormatError(indexFile, 'was written on a big-endian machine; only little-endian checkpoints are read');
    if (header.minConsumer > BUNDLE_VERSION) {
      throw indexFormatError(indexFile, `needs a reader of bundle version ${header.minConsumer} or later; this one reads version ${BUNDLE_VERSION}`);
    }
    if (header.numShards < 1 || header.numShards > 99999) throw indexFormatError(indexFile, `says num_shards ${header.numShards}; expected an integer from 1 to 99999`);
    const sizes = shardSizes(prefix, header.numShards);
    const tensors = new Map<string, BundleTensor>();
    for (const { key, value } of entries) {
      // The header; and the slices of partitioned variables, whose keys are binary (OrderedCode, starting with 0)
      // and which are reached only through their variable's entry.
      if (key.length === 0 || key[0] === 0) continue;
      // Names the engine reads are ASCII; another name that is not UTF-8 is only ever skipped.
      const name = utf8.decode(key);
      const entry = decodeBundleEntry(value, name);
      if (entry.shardId >= header.numShards) {
        throw indexFormatError(indexFile, `tensor ${name} lies in shard ${entry.shardId}, but the checkpoint has ${header.numShards} shard${header.numShards === 1 ? '' : 's'}`);
      }
      const file = shardFile(prefix, entry.shardId, header.numShards);
      if (entry.offset + entry.size > sizes[entry.shardId]) {
        throw indexFormatError(indexFile, `tensor ${name} lies at bytes [${entry.offset}, ${entry.offset + entry.size}) of ${file}, which has ${sizes[entry.shardId]}: the shard is truncated`);
      }
      tensors.set(name, { ...entry, file });
    }
    return { indexFile, tensors };
  } catch (error) {
    if (error instanceof TableError || error instanceof ProtobufError) throw indexFormatError(indexFile, error.message);
    throw error;
  }
}
