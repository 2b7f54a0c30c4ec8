/**
 * A TensorFlow checkpoint's .index is untrusted input: whatever its bytes, reading it gives checked tensor
 * locations or a BertEmbedError with a documented code, never a raw JavaScript error, a crash or a hang. The
 * files are random bytes, a real index (written by TensorFlow) truncated at every length, and the real index with
 * random bytes changed, both as they are (the blocks' CRCs catch them) and with the blocks' CRCs recomputed, so
 * that the changed bytes reach the table, protobuf and bundle parsers behind the checksums.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BertEmbedError } from '../../lib/errors.js';
import { readBertConfig, type BertModelConfig } from '../../lib/model/bert-config.js';
import { crc32c, extendCrc32c, maskCrc32c } from '../../lib/model/tf-checkpoint/crc32c.js';
import { indexTfCheckpoint } from '../../lib/model/tf-checkpoint/index-checkpoint.js';
import { expectDocumentedError, fuzzParameters } from '../fuzz/arbitraries.js';
import { checkpointDir } from '../helpers/checkpoints.js';
import { makeFixtureDir, removeFixtureDir } from '../reference/helpers.js';
import { runTensorFlow } from '../reference/tf-checkpoint.js';

const CODES = ['ERR_MODEL_FORMAT', 'ERR_MODEL_NOT_FOUND'] as const;

let root: string;
let original: Buffer;
let config: BertModelConfig;
let shardSizes: Map<string, number>;
let blocks: { offset: number; size: number }[];
const fuzzPrefix = () => path.join(root, 'fuzz', 'bert_model.ckpt');

function varint(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  for (let shift = 1, i = at; ; i++, shift *= 128) {
    value += (bytes[i] & 0x7f) * shift;
    if ((bytes[i] & 0x80) === 0) return [value, i + 1];
  }
}

/** The real index's blocks (metaindex, index, data), read by this test's own walk of the footer and index block. */
function blockHandles(file: Uint8Array): { offset: number; size: number }[] {
  const footer = file.length - 48;
  const handles: { offset: number; size: number }[] = [];
  let at = footer;
  for (let i = 0; i < 2; i++) {
    const [offset, next] = varint(file, at);
    const [size, after] = varint(file, next);
    handles.push({ offset, size });
    at = after;
  }
  const index = handles[1];
  const block = file.subarray(index.offset, index.offset + index.size);
  const restarts = new DataView(block.buffer, block.byteOffset).getUint32(block.length - 4, true);
  for (let p = 0; p < block.length - 4 - 4 * restarts; ) {
    const [, a] = varint(block, p);
    const [unshared, b] = varint(block, a);
    const [valueLength, c] = varint(block, b);
    const [offset, d] = varint(block, c + unshared);
    const [size] = varint(block, d);
    handles.push({ offset, size });
    p = c + unshared + valueLength;
  }
  return handles;
}

/** The blocks' checksums recomputed over their (changed) bytes. */
function withFixedCrcs(file: Buffer): Buffer {
  for (const { offset, size } of blocks) {
    if (offset + size + 5 > file.length) continue;
    const crc = extendCrc32c(crc32c(file.subarray(offset, offset + size)), file.subarray(offset + size, offset + size + 1));
    file.writeUInt32LE(maskCrc32c(crc), offset + size + 1);
  }
  return file;
}

/** Reads `bytes` as the fuzz checkpoint's index: checked locations inside their shards, or a documented error. */
function expectSafe(bytes: Uint8Array): 'read' | 'refused' {
  fs.writeFileSync(`${fuzzPrefix()}.index`, bytes);
  try {
    const locations = indexTfCheckpoint(fuzzPrefix(), config, 'bert_config.json');
    for (const location of locations) {
      expect(location.begin).toBeGreaterThanOrEqual(0);
      expect(location.end).toBeLessThanOrEqual(shardSizes.get(location.file)!);
      expect(location.end - location.begin).toBe(location.shape.reduce((a, b) => a * b, location.dtype === 'F32' ? 4 : 2));
    }
    return 'read';
  } catch (error) {
    expectDocumentedError(error, [BertEmbedError], CODES);
    return 'refused';
  }
}

beforeAll(async () => {
  root = makeFixtureDir('tf-index-fuzz');
  const out = path.join(root, 'odd');
  await runTensorFlow([{ op: 'write', source: checkpointDir('odd'), out, shards: 2 }]);
  original = fs.readFileSync(path.join(out, 'bert_model.ckpt.index'));
  config = readBertConfig(path.join(out, 'bert_config.json'), 'google');
  fs.mkdirSync(path.join(root, 'fuzz'));
  shardSizes = new Map();
  for (const shard of ['bert_model.ckpt.data-00000-of-00002', 'bert_model.ckpt.data-00001-of-00002']) {
    fs.symlinkSync(path.join(out, shard), path.join(root, 'fuzz', shard));
    shardSizes.set(path.join(root, 'fuzz', shard), fs.statSync(path.join(out, shard)).size);
  }
  blocks = blockHandles(original);
}, 300_000);

afterAll(() => {
  if (root) removeFixtureDir(root);
});

describe('TensorFlow checkpoint index readers on hostile bytes', () => {
  it('read the untouched index', () => {
    expect(expectSafe(original)).toBe('read');
    expect(blocks.length).toBeGreaterThanOrEqual(3);
  });

  it('refuse the index truncated at every length', () => {
    for (let length = 0; length < original.length; length++) expect(expectSafe(original.subarray(0, length)), `length ${length}`).toBe('refused');
  });

  it('refuse random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
        expect(expectSafe(bytes)).toBe('refused');
      }),
      fuzzParameters(200),
    );
  });

  const changes = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 });
  const changed = (positions: [number, number][]) => {
    const copy = Buffer.from(original);
    for (const [at, xor] of positions) copy[at % copy.length] ^= xor;
    return copy;
  };

  it('read or refuse the index with bytes changed', () => {
    fc.assert(
      fc.property(changes, (positions) => {
        expectSafe(changed(positions));
      }),
      fuzzParameters(300),
    );
  });

  it('read or refuse the index with bytes changed behind recomputed block checksums', () => {
    let refused = 0;
    fc.assert(
      fc.property(changes, (positions) => {
        if (expectSafe(withFixedCrcs(changed(positions))) === 'refused') refused++;
      }),
      fuzzParameters(500),
    );
    // The changes reached the parsers behind the checksums, which refused most of them.
    expect(refused).toBeGreaterThan(0);
  });
});
