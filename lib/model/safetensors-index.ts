/**
 * Reads a safetensors header and checks every BERT tensor against config.json, so that a wrong or
 * truncated file fails here with a message naming the tensor. The native side then only reads bytes.
 */
import fs from 'node:fs';
import { BertEmbedError } from '../errors.js';
import type { NativeBertConfig, NativeTensorLocation } from '../native/binding.js';

const FLOAT_DTYPES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Elements of every tensor in the file (a model's parameter count, buffers included). */
export function safetensorsElementCount(file: string): number {
  let total = 0;
  for (const entry of readHeader(file).entries.values()) total += entry.shape.reduce((a, b) => a * b, 1);
  return total;
}

function formatError(file: string, message: string): BertEmbedError {
  return new BertEmbedError(`${file}: ${message}`, 'ERR_MODEL_FORMAT');
}

function readHeader(file: string): { entries: Map<string, HeaderEntry>; dataStart: number; fileSize: number } {
  const fd = fs.openSync(file, 'r');
  try {
    const fileSize = fs.fstatSync(fd).size;
    const lengthBytes = Buffer.alloc(8);
    if (fileSize < 8 || fs.readSync(fd, lengthBytes, 0, 8, 0) !== 8) throw formatError(file, 'is too short to be a safetensors file');
    const headerLength = Number(lengthBytes.readBigUInt64LE(0));
    if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > fileSize) {
      throw formatError(file, `is not a safetensors file or is truncated (header of ${headerLength} bytes in a file of ${fileSize})`);
    }
    const headerBytes = Buffer.alloc(headerLength);
    fs.readSync(fd, headerBytes, 0, headerLength, 8);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(headerBytes.toString('utf8'));
    } catch {
      throw formatError(file, 'has a safetensors header that is not valid JSON');
    }
    const entries = new Map<string, HeaderEntry>();
    for (const [name, entry] of Object.entries(header)) {
      if (name !== '__metadata__') entries.set(name, entry as HeaderEntry);
    }
    return { entries, dataStart: 8 + headerLength, fileSize };
  } finally {
    fs.closeSync(fd);
  }
}

/** Hugging Face names with or without the `bert.` prefix, and old LayerNorm gamma/beta names. */
export function canonicalTensorName(name: string): string {
  return name.replace(/^bert\./, '').replace(/LayerNorm\.gamma$/, 'LayerNorm.weight').replace(/LayerNorm\.beta$/, 'LayerNorm.bias');
}

/** Every tensor the encoder needs, with the shape config.json implies. */
export function expectedEncoderTensors(config: NativeBertConfig): Map<string, number[]> {
  const { hiddenSize: h, intermediateSize: inner } = config;
  const expected = new Map<string, number[]>([
    ['embeddings.word_embeddings.weight', [config.vocabSize, h]],
    ['embeddings.position_embeddings.weight', [config.maxPositions, h]],
    ['embeddings.token_type_embeddings.weight', [config.typeVocabSize, h]],
    ['embeddings.LayerNorm.weight', [h]],
    ['embeddings.LayerNorm.bias', [h]],
  ]);
  for (let layer = 0; layer < config.numLayers; layer++) {
    const prefix = `encoder.layer.${layer}.`;
    for (const projection of ['query', 'key', 'value']) {
      expected.set(`${prefix}attention.self.${projection}.weight`, [h, h]);
      expected.set(`${prefix}attention.self.${projection}.bias`, [h]);
    }
    expected.set(`${prefix}attention.output.dense.weight`, [h, h]);
    expected.set(`${prefix}attention.output.dense.bias`, [h]);
    expected.set(`${prefix}attention.output.LayerNorm.weight`, [h]);
    expected.set(`${prefix}attention.output.LayerNorm.bias`, [h]);
    expected.set(`${prefix}intermediate.dense.weight`, [inner, h]);
    expected.set(`${prefix}intermediate.dense.bias`, [inner]);
    expected.set(`${prefix}output.dense.weight`, [h, inner]);
    expected.set(`${prefix}output.dense.bias`, [h]);
    expected.set(`${prefix}output.LayerNorm.weight`, [h]);
    expected.set(`${prefix}output.LayerNorm.bias`, [h]);
  }
  return expected;
}

/** BertForMaskedLM's head: these always, when the checkpoint has it. */
export function expectedMaskedLmHeadTensors(config: NativeBertConfig): Map<string, number[]> {
  const { hiddenSize: h, vocabSize: v } = config;
  return new Map([
    ['cls.predictions.transform.dense.weight', [h, h]],
    ['cls.predictions.transform.dense.bias', [h]],
    ['cls.predictions.transform.LayerNorm.weight', [h]],
    ['cls.predictions.transform.LayerNorm.bias', [h]],
    ['cls.predictions.bias', [v]],
  ]);
}

/** The head's decoder, stored only when it is not tied to the word embeddings (and cls.predictions.bias). */
function untiedDecoderTensors(config: NativeBertConfig): Map<string, number[]> {
  return new Map([
    ['cls.predictions.decoder.weight', [config.vocabSize, config.hiddenSize]],
    ['cls.predictions.decoder.bias', [config.vocabSize]],
  ]);
}

const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/**
 * Locates and checks the encoder's tensors in a safetensors file, and the masked-LM head's when the
 * checkpoint has one (a head with some of its tensors missing is refused, never half-loaded).
 */
export function indexSafetensors(file: string, config: NativeBertConfig): NativeTensorLocation[] {
  const { entries, dataStart, fileSize } = readHeader(file);
  const byCanonicalName = new Map<string, [string, HeaderEntry]>();
  for (const [name, entry] of entries) byCanonicalName.set(canonicalTensorName(name), [name, entry]);

  const locations: NativeTensorLocation[] = [];
  const locate = (name: string, shape: number[], found: [string, HeaderEntry]): void => {
    const [storedName, entry] = found;
    const elementBytes = FLOAT_DTYPES[entry.dtype];
    if (elementBytes === undefined) {
      throw formatError(file, `tensor ${storedName} has dtype ${entry.dtype}; expected F32, F16 or BF16`);
    }
    if (!Array.isArray(entry.shape) || shapeText(entry.shape) !== shapeText(shape)) {
      throw formatError(file, `tensor ${storedName} has shape ${shapeText(entry.shape ?? [])} but config.json implies ${shapeText(shape)}`);
    }
    const [begin, end] = entry.data_offsets;
    if (end - begin !== elementBytes * shape.reduce((a, b) => a * b, 1)) {
      throw formatError(file, `tensor ${storedName} has ${end - begin} bytes of data, which does not fit its shape and dtype`);
    }
    if (dataStart + end > fileSize) {
      throw formatError(file, `is truncated: tensor ${storedName} ends at byte ${dataStart + end} but the file has ${fileSize} bytes`);
    }
    locations.push({ name, dtype: entry.dtype as NativeTensorLocation['dtype'], shape, begin: dataStart + begin, end: dataStart + end });
  };
  for (const [name, shape] of expectedEncoderTensors(config)) {
    const found = byCanonicalName.get(name);
    if (!found) throw formatError(file, `has no tensor ${name} (nor bert.${name}); is this a BERT checkpoint?`);
    locate(name, shape, found);
  }
  const head = [...expectedMaskedLmHeadTensors(config)];
  const headFound = head.filter(([name]) => byCanonicalName.has(name));
  if (headFound.length > 0) {
    const missing = head.find(([name]) => !byCanonicalName.has(name));
    if (missing) throw formatError(file, `has part of a masked-LM head but no tensor ${missing[0]}`);
    for (const [name, shape] of [...head, ...untiedDecoderTensors(config)]) {
      const found = byCanonicalName.get(name);
      if (found) locate(name, shape, found);
    }
  }
  return locations;
}
