/**
 * Reads a safetensors header and checks every BERT tensor against config.json, so that a wrong or
 * truncated file fails here with a message naming the tensor. The header is untrusted input and is
 * checked as the format requires (safetensors' own reader refuses the same files): a JSON object
 * in UTF-8 of at most 100,000,000 bytes; each entry a known dtype, a shape of non-negative
 * integers and data_offsets [begin, end] whose length is the shape's bytes; the entries in order,
 * back to back, from the start of the data to the end of the file. The native side then only reads
 * bytes.
 */
import fs from 'node:fs';
import { BertEmbedError } from '../errors.js';
import type { NativeBertConfig, NativeTensorLocation } from '../native/binding.js';
import type { ClassifierKind } from './capabilities.js';
import { expectationMessage } from '../validation.js';

/** What the engine loads. */
const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16']);
/** Bits per element of every dtype the format defines (the engine reads the float ones only). */
const DTYPE_BITS: Record<string, number> = {
  BOOL: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
};
/** The format's limit on the header (safetensors' MAX_HEADER_SIZE). */
const MAX_HEADER_BYTES = 100_000_000;

interface HeaderEntry {
  dtype: string;
  shape: number[];
  /** relative to the start of the data, as stored */
  data_offsets: [number, number];
}

interface SafetensorsHeader {
  entries: Map<string, HeaderEntry>;
  dataStart: number;
  fileSize: number;
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

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** One header entry, checked field by field; its byte length is checked against the dtype and shape. */
function checkEntry(file: string, name: string, raw: unknown): HeaderEntry {
  const where = `tensor ${JSON.stringify(name)}`;
  const invalid = (field: string, expected: string, value: unknown) =>
    formatError(file, `safetensors header: ${expectationMessage(`${field} of ${where}`, expected, value)}`);
  if (!isObject(raw)) throw invalid('the entry', 'object with dtype, shape and data_offsets', raw);
  const { dtype, shape, data_offsets: offsets } = raw;
  const bits = typeof dtype === 'string' ? DTYPE_BITS[dtype] : undefined;
  if (bits === undefined) throw invalid('dtype', `one of ${Object.keys(DTYPE_BITS).join(', ')}`, dtype);
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw invalid('shape', 'array of non-negative integers', Array.isArray(shape) ? shape.find((d) => !(Number.isSafeInteger(d) && d >= 0)) : shape);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)) {
    throw invalid('data_offsets', 'two non-negative integers [begin, end]', offsets);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw formatError(file, `safetensors header: ${where} has data_offsets [${begin}, ${end}], which end before they begin`);
  // Exact while below 2^53: the shape's bits, counted in a float that says when it is not.
  const elementBits = shape.reduce((product: number, d: number) => product * d, bits);
  if (!Number.isSafeInteger(elementBits) || elementBits % 8 !== 0 || elementBits / 8 !== end - begin) {
    throw formatError(
      file,
      `tensor ${name} has ${end - begin} bytes of data (data_offsets [${begin}, ${end}]), but its shape [${shape.join(', ')}] of ${dtype} takes ${
        Number.isSafeInteger(elementBits) ? elementBits / 8 : 'more than 2^50'
      }`,
    );
  }
  return { dtype: dtype as string, shape: shape as number[], data_offsets: [begin, end] };
}

function readHeader(file: string): SafetensorsHeader {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    throw new BertEmbedError(`${file} cannot be opened (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, 'ERR_MODEL_LOAD', { cause: error });
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new BertEmbedError(`${file} is not a regular file`, 'ERR_MODEL_LOAD');
    const fileSize = stat.size;
    const lengthBytes = Buffer.alloc(8);
    if (fileSize < 8 || fs.readSync(fd, lengthBytes, 0, 8, 0) !== 8) throw formatError(file, 'is too short to be a safetensors file');
    const headerLength = lengthBytes.readBigUInt64LE(0);
    if (headerLength > BigInt(MAX_HEADER_BYTES) || 8n + headerLength > BigInt(fileSize)) {
      throw formatError(
        file,
        `is not a safetensors file or is truncated (a header of ${headerLength} bytes in a file of ${fileSize}; the format allows at most ${MAX_HEADER_BYTES})`,
      );
    }
    const headerBytes = Buffer.alloc(Number(headerLength));
    if (fs.readSync(fd, headerBytes, 0, headerBytes.length, 8) !== headerBytes.length) throw formatError(file, 'ends inside its safetensors header');
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
    } catch {
      throw formatError(file, 'has a safetensors header that is not valid UTF-8');
    }
    let header: unknown;
    try {
      header = JSON.parse(text);
    } catch (error) {
      throw formatError(file, `has a safetensors header that is not valid JSON (${(error as Error).message})`);
    }
    if (!isObject(header)) throw formatError(file, `safetensors header: ${expectationMessage('the header', 'JSON object of tensors', header)}`);
    const entries = new Map<string, HeaderEntry>();
    for (const [name, raw] of Object.entries(header)) {
      if (name === '__metadata__') {
        if (!isObject(raw) || Object.values(raw).some((value) => typeof value !== 'string')) {
          throw formatError(file, `safetensors header: ${expectationMessage('__metadata__', 'object of strings', raw)}`);
        }
        continue;
      }
      entries.set(name, checkEntry(file, name, raw));
    }
    checkLayout(file, entries, fileSize - 8 - Number(headerLength), 8 + Number(headerLength));
    return { entries, dataStart: 8 + Number(headerLength), fileSize };
  } finally {
    fs.closeSync(fd);
  }
}

/** The tensors' bytes lie back to back in offset order, from the start of the data to the end of the file. */
function checkLayout(file: string, entries: Map<string, HeaderEntry>, dataBytes: number, dataStart: number): void {
  const ordered = [...entries].sort(([, a], [, b]) => a.data_offsets[0] - b.data_offsets[0] || a.data_offsets[1] - b.data_offsets[1]);
  let expectedBegin = 0;
  let previous: string | undefined;
  for (const [name, { data_offsets: [begin, end] }] of ordered) {
    if (begin < expectedBegin) {
      throw formatError(file, `safetensors header: tensor ${name} (data_offsets [${begin}, ${end}]) overlaps tensor ${previous}, which ends at ${expectedBegin}`);
    }
    if (begin > expectedBegin) {
      throw formatError(
        file,
        `safetensors header: tensor ${name} begins at data offset ${begin} but ${previous ? `tensor ${previous} ends` : 'the data begins'} at ${expectedBegin}; the format has no gaps between tensors`,
      );
    }
    if (end > dataBytes) {
      throw formatError(file, `is truncated: tensor ${name} ends at byte ${dataStart + end} but the file has ${dataStart + dataBytes} bytes`);
    }
    expectedBegin = end;
    previous = name;
  }
  if (expectedBegin !== dataBytes) {
    throw formatError(file, `has ${dataBytes - expectedBegin} bytes after its last tensor that the header does not account for`);
  }
}

/** Hugging Face names with or without the `bert.` prefix, and old LayerNorm gamma/beta names. */
export function canonicalTensorName(name: string): string {
  return name.replace(/^bert\./, '').replace(/LayerNorm\.gamma$/, 'LayerNorm.weight').replace(/LayerNorm\.beta$/, 'LayerNorm.bias');
}

/** A tensor the engine reads: its shape as config.json implies it, and the config fields behind each dimension. */
interface ExpectedTensor {
  shape: number[];
  fields: string[];
}

/** Every tensor the encoder needs, with the shape config.json implies. */
function expectedEncoderTensors(config: NativeBertConfig): Map<string, ExpectedTensor> {
  const { hiddenSize: h, intermediateSize: inner } = config;
  const hidden: ExpectedTensor = { shape: [h], fields: ['hidden_size'] };
  const square: ExpectedTensor = { shape: [h, h], fields: ['hidden_size', 'hidden_size'] };
  const expected = new Map<string, ExpectedTensor>([
    ['embeddings.word_embeddings.weight', { shape: [config.vocabSize, h], fields: ['vocab_size', 'hidden_size'] }],
    ['embeddings.position_embeddings.weight', { shape: [config.maxPositions, h], fields: ['max_position_embeddings', 'hidden_size'] }],
    ['embeddings.token_type_embeddings.weight', { shape: [config.typeVocabSize, h], fields: ['type_vocab_size', 'hidden_size'] }],
    ['embeddings.LayerNorm.weight', hidden],
    ['embeddings.LayerNorm.bias', hidden],
  ]);
  for (let layer = 0; layer < config.numLayers; layer++) {
    const prefix = `encoder.layer.${layer}.`;
    for (const projection of ['query', 'key', 'value']) {
      expected.set(`${prefix}attention.self.${projection}.weight`, square);
      expected.set(`${prefix}attention.self.${projection}.bias`, hidden);
    }
    expected.set(`${prefix}attention.output.dense.weight`, square);
    expected.set(`${prefix}attention.output.dense.bias`, hidden);
    expected.set(`${prefix}attention.output.LayerNorm.weight`, hidden);
    expected.set(`${prefix}attention.output.LayerNorm.bias`, hidden);
    expected.set(`${prefix}intermediate.dense.weight`, { shape: [inner, h], fields: ['intermediate_size', 'hidden_size'] });
    expected.set(`${prefix}intermediate.dense.bias`, { shape: [inner], fields: ['intermediate_size'] });
    expected.set(`${prefix}output.dense.weight`, { shape: [h, inner], fields: ['hidden_size', 'intermediate_size'] });
    expected.set(`${prefix}output.dense.bias`, hidden);
    expected.set(`${prefix}output.LayerNorm.weight`, hidden);
    expected.set(`${prefix}output.LayerNorm.bias`, hidden);
  }
  return expected;
}

/** BertForMaskedLM's head: these always, when the checkpoint has it. */
function expectedMaskedLmHeadTensors(config: NativeBertConfig): Map<string, ExpectedTensor> {
  const { hiddenSize: h, vocabSize: v } = config;
  const hidden: ExpectedTensor = { shape: [h], fields: ['hidden_size'] };
  return new Map([
    ['cls.predictions.transform.dense.weight', { shape: [h, h], fields: ['hidden_size', 'hidden_size'] }],
    ['cls.predictions.transform.dense.bias', hidden],
    ['cls.predictions.transform.LayerNorm.weight', hidden],
    ['cls.predictions.transform.LayerNorm.bias', hidden],
    ['cls.predictions.bias', { shape: [v], fields: ['vocab_size'] }],
  ]);
}

/** The head's decoder, stored only when it is not tied to the word embeddings (and cls.predictions.bias). */
function untiedDecoderTensors(config: NativeBertConfig): Map<string, ExpectedTensor> {
  return new Map([
    ['cls.predictions.decoder.weight', { shape: [config.vocabSize, config.hiddenSize], fields: ['vocab_size', 'hidden_size'] }],
    ['cls.predictions.decoder.bias', { shape: [config.vocabSize], fields: ['vocab_size'] }],
  ]);
}

const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** How many layers the file holds: encoder.layer.0 … encoder.layer.(n-1), each with at least one tensor. */
function storedLayerCount(canonicalNames: Iterable<string>): number {
  const layers = new Set<number>();
  for (const name of canonicalNames) {
    const match = /^encoder\.layer\.(\d{1,9})\./.exec(name);
    if (match) layers.add(Number(match[1]));
  }
  let count = 0;
  while (layers.has(count)) count++;
  return count;
}

/** A tensor as a weights file stores it, under its canonical name: its shape in torch's layout. */
export interface StoredTensor {
  storedName: string;
  /** F32, F16, BF16, or the file's own name of another dtype (refused when the tensor is used) */
  dtype: string;
  shape: number[];
  file: string;
  begin: number;
  end: number;
  transposed: boolean;
  crc32c?: number;
}

/** How a weights format names things in messages. */
export interface WeightsNaming {
  /** the weights file (or index) a message names */
  file: string;
  /** the config file's name: config.json, or bert_config.json */
  configName: string;
  /** the dtypes the engine reads, in the format's own words */
  floatDtypes: string;
  /** the stored name(s) a missing canonical tensor would have */
  storedNameOf(canonicalName: string): string;
  /** how the file names layer i */
  layerName(layer: number): string;
}

export interface TensorSelection {
  /** also the pooler (pooler.dense.*) when the file has it: an export keeps it, the engine has no use for it */
  pooler?: boolean;
  /**
   * also the classifier when the file has classifier.*: config.json's label count, and whose head it is
   * (capabilities.ts decides): BertForSequenceClassification's reads the pooler too, BertForTokenClassification's does not
   */
  classifier?: { labels: number; kind: ClassifierKind };
}

/**
 * The encoder's tensors, checked against the config's sizes, and the masked-LM head's when the
 * checkpoint has one (a head with some of its tensors missing is refused, never half-loaded).
 * The config's sizes are held against the file's before anything is built from them, so a config
 * can never make the load cost more than the file's own tensors. Every weights format goes through
 * here: safetensors below, TensorFlow checkpoints in tf-checkpoint/.
 */
export function selectBertTensors(
  stored: ReadonlyMap<string, StoredTensor>,
  config: NativeBertConfig,
  naming: WeightsNaming,
  selection: TensorSelection = {},
): NativeTensorLocation[] {
  const file = naming.file;
  const layers = storedLayerCount(stored.keys());
  if (config.numLayers > layers) {
    throw formatError(
      file,
      `${naming.configName} says num_hidden_layers ${config.numLayers}, but the file holds ${layers} layer${layers === 1 ? '' : 's'}` +
        (layers > 0 ? ` (${naming.layerName(0)} to ${naming.layerName(layers - 1)})` : ''),
    );
  }

  const locations: NativeTensorLocation[] = [];
  const locate = (name: string, { shape, fields }: ExpectedTensor, tensor: StoredTensor): void => {
    if (!FLOAT_DTYPES.has(tensor.dtype)) {
      throw formatError(file, `tensor ${tensor.storedName} has dtype ${tensor.dtype}; expected ${naming.floatDtypes}`);
    }
    if (shapeText(tensor.shape) !== shapeText(shape)) {
      const stored = tensor.transposed ? ` (stored transposed, as ${shapeText([...tensor.shape].reverse())})` : '';
      throw formatError(file, `tensor ${tensor.storedName} has shape ${shapeText(tensor.shape)}${stored} but ${naming.configName} implies ${shapeText(shape)} (${fields.join(' × ')})`);
    }
    const { storedName, file: tensorFile, begin, end, transposed, crc32c } = tensor;
    locations.push({
      name,
      storedName,
      dtype: tensor.dtype as NativeTensorLocation['dtype'],
      shape,
      file: tensorFile,
      begin,
      end,
      transposed,
      ...(crc32c === undefined ? {} : { crc32c }),
    });
  };
  for (const [name, expected] of expectedEncoderTensors(config)) {
    const found = stored.get(name);
    if (!found) throw formatError(file, `has no tensor ${naming.storedNameOf(name)}; is this a BERT checkpoint?`);
    locate(name, expected, found);
  }
  const optionalGroups: [string, Map<string, ExpectedTensor>, Map<string, ExpectedTensor>][] = [
    ['a masked-LM head', expectedMaskedLmHeadTensors(config), untiedDecoderTensors(config)],
  ];
  const classifier = selection.classifier && (stored.has('classifier.weight') || stored.has('classifier.bias')) ? selection.classifier : undefined;
  if (classifier?.kind === 'token') optionalGroups.push(['a token-classification head', classifierTensors(config, classifier.labels), new Map()]);
  // The sequence-classification head reads the pooler, so it takes the pooler's tensors with it (once).
  if (classifier?.kind === 'sequence') optionalGroups.push(['a sequence-classification head', new Map([...poolerTensors(config), ...classifierTensors(config, classifier.labels)]), new Map()]);
  else if (selection.pooler) optionalGroups.push(['a pooler', poolerTensors(config), new Map()]);
  for (const [what, group, extras] of optionalGroups) {
    const entries = [...group];
    if (!entries.some(([name]) => stored.has(name))) continue;
    const missing = entries.find(([name]) => !stored.has(name));
    if (missing) throw formatError(file, `has part of ${what} but no tensor ${naming.storedNameOf(missing[0])}`);
    for (const [name, expected] of [...entries, ...extras]) {
      const found = stored.get(name);
      if (found) locate(name, expected, found);
    }
  }
  return locations;
}

/** BertModel's pooler: a dense layer on [CLS]. */
function poolerTensors(config: NativeBertConfig): Map<string, ExpectedTensor> {
  const h = config.hiddenSize;
  return new Map([
    ['pooler.dense.weight', { shape: [h, h], fields: ['hidden_size', 'hidden_size'] }],
    ['pooler.dense.bias', { shape: [h], fields: ['hidden_size'] }],
  ]);
}

/** The classifier: classifier.* with one row per label. */
function classifierTensors(config: NativeBertConfig, labels: number): Map<string, ExpectedTensor> {
  return new Map([
    ['classifier.weight', { shape: [labels, config.hiddenSize], fields: ['num_labels (id2label)', 'hidden_size'] }],
    ['classifier.bias', { shape: [labels], fields: ['num_labels (id2label)'] }],
  ]);
}

/** Locates and checks the BERT tensors of a safetensors file (see selectBertTensors). */
export function indexSafetensors(file: string, config: NativeBertConfig, selection: TensorSelection = {}): NativeTensorLocation[] {
  const { entries, dataStart } = readHeader(file);
  const stored = new Map<string, StoredTensor>();
  for (const [storedName, entry] of entries) {
    const [begin, end] = entry.data_offsets;
    stored.set(canonicalTensorName(storedName), {
      storedName,
      dtype: entry.dtype,
      shape: entry.shape,
      file,
      begin: dataStart + begin,
      end: dataStart + end,
      transposed: false,
    });
  }
  const locations = selectBertTensors(stored, config, {
    file,
    configName: 'config.json',
    floatDtypes: 'F32, F16 or BF16',
    storedNameOf: (name) => (name.startsWith('cls.') ? name : `${name} (nor bert.${name})`),
    layerName: (layer) => `encoder.layer.${layer}`,
  }, selection);
  // What the native reader's messages name (a non-finite weight): the canonical names, as they always have.
  return locations.map((location) => ({ ...location, storedName: location.name }));
}
