/**
 * A bert-as-service model directory (Google's TensorFlow checkpoint) rewritten as a Hugging Face
 * one: config.json (Google's fields, with model_type and architectures), model.safetensors (HF's
 * names, torch's layout: kernels transposed back; the masked-LM head and the pooler when the
 * checkpoint has them), vocab.txt and tokenizer_config.json (the lower-casing the load decided).
 * Every tensor's bytes are checked against the index's CRC-32C as they are copied.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BertEmbedError } from '../../errors.js';
import type { NativeTensorLocation } from '../../native/binding.js';
import type { ModelDescription } from '../model-description.js';
import { readModelJsonFile } from '../model-files.js';
import { writeSafetensors, type TensorToWrite } from '../safetensors-writer.js';
import { crc32c, unmaskCrc32c } from './crc32c.js';
import { indexTfCheckpoint } from './index-checkpoint.js';

const ELEMENT_BYTES = { F32: 4, F16: 2, BF16: 2 } as const;

const hex = (value: number) => `0x${value.toString(16).padStart(8, '0')}`;

/** The stored bytes of one tensor, checked against its CRC-32C, in torch's layout. */
function readTensorBytes(location: NativeTensorLocation): Uint8Array {
  const size = location.end - location.begin;
  const stored = new Uint8Array(new ArrayBuffer(size));
  const fd = fs.openSync(location.file, 'r');
  try {
    if (fs.readSync(fd, stored, 0, size, location.begin) !== size) {
      throw new BertEmbedError(`${location.file} ends inside tensor ${location.storedName}`, 'ERR_MODEL_FORMAT');
    }
  } finally {
    fs.closeSync(fd);
  }
  if (location.crc32c !== undefined && crc32c(stored) !== unmaskCrc32c(location.crc32c)) {
    throw new BertEmbedError(
      `${location.file}: tensor ${location.storedName} fails its CRC-32C check (the index says ${hex(unmaskCrc32c(location.crc32c))}, ` +
        `its ${size} bytes give ${hex(crc32c(stored))}): the data file is corrupted`,
      'ERR_MODEL_FORMAT',
    );
  }
  return location.transposed ? transpose(stored, location.shape[1], location.shape[0], ELEMENT_BYTES[location.dtype]) : stored;
}

/** A row-major [rows, columns] matrix of `elementBytes`-byte elements, transposed. */
function transpose(bytes: Uint8Array, rows: number, columns: number, elementBytes: 2 | 4): Uint8Array {
  const out = new Uint8Array(new ArrayBuffer(bytes.length));
  const Elements = elementBytes === 4 ? Uint32Array : Uint16Array;
  const from = new Elements(bytes.buffer as ArrayBuffer, bytes.byteOffset, rows * columns);
  const to = new Elements(out.buffer, 0, rows * columns);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) to[c * rows + r] = from[r * columns + c];
  return out;
}

function writeJson(file: string, value: unknown): void {
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Writes the Hugging Face directory into outDir; returns the path of its model.safetensors. */
export function exportTfCheckpointAsHuggingFace(description: ModelDescription, outDir: string): string {
  const { files, config } = description;
  const prefix = files.weights.checkpointPrefix;
  if (files.weights.format !== 'tf-checkpoint' || prefix === undefined) throw new Error('exportTfCheckpointAsHuggingFace: not a TensorFlow checkpoint');
  const locations = indexTfCheckpoint(prefix, config, path.basename(files.configJson), { pooler: true });
  const maskedLm = locations.some((location) => location.name.startsWith('cls.'));
  // As transformers saves them: BertForMaskedLM's encoder under bert., BertModel's without a prefix.
  const hfName = (name: string) => (maskedLm && !name.startsWith('cls.') ? `bert.${name}` : name);
  fs.mkdirSync(outDir, { recursive: true });
  const tensors: TensorToWrite[] = locations.map((location) => ({
    name: hfName(location.name),
    dtype: location.dtype,
    shape: location.shape,
    bytes: () => readTensorBytes(location),
  }));
  const modelFile = path.join(outDir, 'model.safetensors');
  // The weights first: a corrupted tensor leaves no half-written directory that looks complete.
  writeSafetensors(modelFile, tensors);
  writeCompanionFiles(description, outDir, maskedLm);
  return modelFile;
}

/**
 * config.json, vocab.txt and tokenizer_config.json of a TensorFlow model in Hugging Face's layout:
 * what an export writes beside its weights (model.safetensors, or model.pt).
 */
export function writeCompanionFiles({ files, config, tokenizer }: ModelDescription, outDir: string, maskedLm: boolean): void {
  const google = readModelJsonFile(files.configJson) as Record<string, unknown>;
  writeJson(path.join(outDir, 'config.json'), {
    ...google,
    architectures: [maskedLm ? 'BertForMaskedLM' : 'BertModel'],
    model_type: 'bert',
    hidden_act: config.hiddenAct,
    layer_norm_eps: config.layerNormEps,
    pad_token_id: config.padTokenId,
  });
  // vocab.txt with tokenizer_config.json below, so that the lower-casing is the one written there.
  const vocab = path.join(files.dir, 'vocab.txt');
  const tokenizerJson = path.join(files.dir, 'tokenizer.json');
  if (fs.existsSync(vocab)) fs.copyFileSync(vocab, path.join(outDir, 'vocab.txt'));
  else fs.copyFileSync(tokenizerJson, path.join(outDir, 'tokenizer.json'));
  const settings = tokenizer.config;
  writeJson(path.join(outDir, 'tokenizer_config.json'), {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: settings.doLowerCase,
    strip_accents: settings.stripAccents,
    tokenize_chinese_chars: settings.tokenizeChineseChars,
    unk_token: settings.unkToken,
    sep_token: settings.sepToken,
    pad_token: settings.padToken,
    cls_token: settings.clsToken,
    mask_token: settings.maskToken,
    model_max_length: config.maxPositions,
  });
}
