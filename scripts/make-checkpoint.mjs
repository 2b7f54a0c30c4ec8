#!/usr/bin/env node
// Writes a random-weight Hugging Face `BertModel` checkpoint (config.json, vocab.txt, tokenizer files,
// model.safetensors) from a real config, optionally with `BertForMaskedLM`'s head. Plain Node ESM, no dependencies,
// no build step.
//
//   node scripts/make-checkpoint.mjs --config ../shared/models/all-MiniLM-L6-v2/config.json --out .fixtures/minilm \
//     [--seed 1] [--dtype F32|F16|BF16] [--std 0.02] [--prefix bert.] [--legacy-layernorm] [--vocab path/to/vocab.txt]
//     [--include-position-ids] [--hidden 96 --heads 3 --layers 2 --intermediate 200 --max-position 128
//      --type-vocab 2 --act gelu --eps 1e-12 --vocab-size N --set key=jsonValue ...] [--mlm-head [--untied-decoder]]
//     [--head-std X] [--quiet]
//
// The tensor names (BertModel's, and BertForMaskedLM's head's) come from scripts/bert-tensor-names.json, which the
// Python and TypeScript readers of these checkpoints share. --mlm-head adds BertForMaskedLM's head, never prefixed (HF
// stores the encoder as `bert.*` and the head as `cls.*`): the transform's dense and LayerNorm (gamma / beta with
// --legacy-layernorm) and the output bias [V]; config.json gets "architectures": ["BertForMaskedLM"]. The decoder is
// tied, as in BERT: its weight is the word embeddings and its bias the output bias. --untied-decoder (implies
// --mlm-head) also writes the decoder's own weight [V,H] and bias [V] (its own values, not a copy of the output bias:
// Hugging Face's logits use the decoder's bias when it is present) and "tie_word_embeddings": false.
// --head-std sets the std of the cls.* tensors (default: --std).
//
// Values are deterministic: every tensor has its own PRNG stream seeded from (seed, canonical tensor name), where the
// canonical name has no prefix and uses LayerNorm.weight/.bias, so a given seed yields the same numbers whatever the
// prefix, the LayerNorm naming, the dtype or the presence of position_ids. Weights and biases ~ N(0, std);
// LayerNorm weight ~ 1 + N(0, std), LayerNorm bias ~ N(0, std). Values are generated in float64, rounded to float32,
// and, for F16/BF16, rounded from float32 to nearest-even.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bertTensors } from './bert-tensor-names.mjs';

const CHUNK_ELEMENTS = 1 << 20; // 4 MiB of float32 per write
const DTYPE_BYTES = { F32: 4, F16: 2, BF16: 2 };

// ---------------------------------------------------------------------------------------------------------------
// float32 -> float16 / bfloat16, round to nearest, ties to even
// ---------------------------------------------------------------------------------------------------------------

/** IEEE binary16 bits of the float32 whose bits are `f` (uint32), rounded to nearest even. */
export function float32BitsToFloat16Bits(f) {
  f |= 0; // int32 keeps V8 on the small-integer path (uint32 values >= 2^31 would be doubles)
  const sign = (f >>> 16) & 0x8000;
  const exp = (f >>> 23) & 0xff;
  const mant = f & 0x7fffff;
  if (exp === 0xff) {
    // Inf stays Inf; NaN stays a (quiet) NaN that keeps the top payload bits.
    return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  }
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> Inf
  if (e <= 0) {
    // Result is subnormal (or zero) in half precision: h = round(m24 * 2^(e-14)).
    if (e < -10) return sign; // |x| < 2^-25: rounds to zero (2^-25 itself is handled below: tie -> even = 0)
    const m = mant | 0x800000;
    const shift = 14 - e; // 14 .. 24
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) !== 0)) h += 1; // may carry into the smallest normal: correct
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) !== 0)) h += 1; // carry may reach the exponent / Inf: correct
  return sign | h;
}

/** bfloat16 bits of the float32 whose bits are `f` (uint32), rounded to nearest even. */
export function float32BitsToBfloat16Bits(f) {
  f |= 0;
  if ((f & 0x7f800000) === 0x7f800000 && (f & 0x7fffff) !== 0) {
    return ((f >>> 16) | 0x0040) & 0xffff; // NaN: keep it a quiet NaN
  }
  // Add 0x7fff plus the lowest kept bit, truncate. Exact in doubles; `>>> 16` wraps a negative (sign-set) int32 sum
  // modulo 2^32, and no non-NaN input carries across bit 31.
  return ((f + 0x7fff + ((f >>> 16) & 1)) >>> 16) & 0xffff;
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);
/** Convenience: float16 bits of a JS number (first rounded to float32, as the checkpoint writer does). */
export function numberToFloat16Bits(x) {
  f32Scratch[0] = x;
  return float32BitsToFloat16Bits(u32Scratch[0]);
}
/** Convenience: bfloat16 bits of a JS number (first rounded to float32). */
export function numberToBfloat16Bits(x) {
  f32Scratch[0] = x;
  return float32BitsToBfloat16Bits(u32Scratch[0]);
}

// ---------------------------------------------------------------------------------------------------------------
// Seeded PRNG (sfc32, state from a string hash) + Box-Muller
// ---------------------------------------------------------------------------------------------------------------

function hashString32(str, h) {
  // FNV-1a followed by a murmur3 finaliser.
  for (let i = 0; i < str.length; i++) {
    h ^= str.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

// cos/sin of 2*pi*k/2^SC_BITS for the high bits of the angle; the low bits are handled by a short Taylor series
// (|b| < 2*pi/4096, so the truncation error is below 1e-20): cos/sin of the angle are exact to double rounding.
const SC_BITS = 12;
const SC_SIZE = 1 << SC_BITS;
const COS_TABLE = new Float64Array(SC_SIZE);
const SIN_TABLE = new Float64Array(SC_SIZE);
for (let k = 0; k < SC_SIZE; k++) {
  COS_TABLE[k] = Math.cos((2 * Math.PI * k) / SC_SIZE);
  SIN_TABLE[k] = Math.sin((2 * Math.PI * k) / SC_SIZE);
}
const LOW_SCALE = (2 * Math.PI) / 4294967296; // radians per unit of the 32-bit angle

/**
 * A normal(0,1) generator: sfc32 uniform stream + Box-Muller (both outputs used).
 * u1 = (x + 0.5) / 2^32 in (0,1), theta = 2*pi * y / 2^32 for two consecutive uint32 draws x, y;
 * z0 = sqrt(-2 ln u1) cos(theta), z1 = sqrt(-2 ln u1) sin(theta).
 */
export function createNormalGenerator(seed, stream = '') {
  const key = `${String(seed)}\u0000${stream}`;
  let a = hashString32(key, 0x811c9dc5);
  let b = hashString32(key, 0x9e3779b9);
  let c = hashString32(key, 0x243f6a88);
  let d = 1;
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 15; i++) next();
  let spare = 0;
  let hasSpare = false;
  const INV_2_32 = 1 / 4294967296;
  return {
    /** Fill `out[0..n)` with mean + std * N(0,1). */
    fill(out, n, mean, std) {
      let i = 0;
      if (hasSpare && n > 0) {
        out[i++] = mean + std * spare;
        hasSpare = false;
      }
      // sfc32 inlined on local copies of the state (hot loop).
      let sa = a, sb = b, sc = c, sd = d;
      while (i < n) {
        let t = (((sa + sb) | 0) + sd) | 0;
        sd = (sd + 1) | 0;
        sa = sb ^ (sb >>> 9);
        sb = (sc + (sc << 3)) | 0;
        sc = (sc << 21) | (sc >>> 11);
        sc = (sc + t) | 0;
        const x = t >>> 0;
        t = (((sa + sb) | 0) + sd) | 0;
        sd = (sd + 1) | 0;
        sa = sb ^ (sb >>> 9);
        sb = (sc + (sc << 3)) | 0;
        sc = (sc << 21) | (sc >>> 11);
        sc = (sc + t) | 0;
        const y = t >>> 0;
        const r = Math.sqrt(-2 * Math.log((x + 0.5) * INV_2_32));
        const hi = y >>> (32 - SC_BITS);
        const lo = (y & ((1 << (32 - SC_BITS)) - 1)) * LOW_SCALE;
        const lo2 = lo * lo;
        const cl = 1 - lo2 * (0.5 - lo2 * (1 / 24 - lo2 / 720));
        const sl = lo * (1 - lo2 * (1 / 6 - lo2 * (1 / 120 - lo2 / 5040)));
        const ch = COS_TABLE[hi];
        const sh = SIN_TABLE[hi];
        out[i++] = mean + std * (r * (ch * cl - sh * sl));
        const z1 = r * (sh * cl + ch * sl);
        if (i < n) out[i++] = mean + std * z1;
        else {
          spare = z1;
          hasSpare = true;
        }
      }
      a = sa; b = sb; c = sc; d = sd;
    },
    nextUint32: next,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Tensor plan
// ---------------------------------------------------------------------------------------------------------------

/**
 * The list of tensors of a BertModel checkpoint (plus BertForMaskedLM's head with mlmHead), in write order: the names
 * come from scripts/bert-tensor-names.json (through bert-tensor-names.mjs), the one place they are spelled.
 * Each: { name (as written), canonical (no prefix, .weight/.bias names), shape,
 *         kind: 'normal'|'layernorm-weight'|'position-ids', head: whether it is one of the cls.* tensors }.
 */
export function planTensors(config, { prefix = '', legacyLayerNorm = false, includePositionIds = false, pooler = true, mlmHead = false, untiedDecoder = false, classifierHead = false } = {}) {
  return bertTensors(config, { prefix, legacyLayerNorm, includePositionIds, pooler, mlmHead, untiedDecoder, classifierHead });
}

// ---------------------------------------------------------------------------------------------------------------
// Safetensors writer
// ---------------------------------------------------------------------------------------------------------------

const littleEndian = os.endianness() === 'LE';

function writeAll(fd, bytes) {
  let off = 0;
  while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
}

function writeSafetensors(filePath, tensors, { dtype, std, headStd, seed }) {
  const elemBytes = DTYPE_BYTES[dtype];
  const header = {};
  let offset = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const bytes = t.kind === 'position-ids' ? n * 8 : n * elemBytes;
    header[t.name] = { dtype: t.kind === 'position-ids' ? 'I64' : dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    t.numel = n;
    offset += bytes;
  }
  header.__metadata__ = { format: 'pt' };
  let json = JSON.stringify(header);
  const pad = (8 - (Buffer.byteLength(json, 'utf8') % 8)) % 8;
  json += ' '.repeat(pad);
  const headerBytes = Buffer.from(json, 'utf8');
  const lenBytes = Buffer.alloc(8);
  lenBytes.writeBigUInt64LE(BigInt(headerBytes.length));

  const f32 = new Float32Array(CHUNK_ELEMENTS);
  const u32 = new Uint32Array(f32.buffer);
  const i32 = new Int32Array(f32.buffer); // bit patterns as int32 (V8 small integers)
  const u16 = new Uint16Array(CHUNK_ELEMENTS);
  const f32Bytes = new Uint8Array(f32.buffer);
  const u16Bytes = new Uint8Array(u16.buffer);
  const dv32 = new DataView(f32.buffer);
  const dv16 = new DataView(u16.buffer);

  const fd = fs.openSync(filePath, 'w');
  try {
    writeAll(fd, lenBytes);
    writeAll(fd, headerBytes);
    for (const t of tensors) {
      if (t.kind === 'position-ids') {
        const buf = Buffer.alloc(t.numel * 8);
        for (let i = 0; i < t.numel; i++) buf.writeBigInt64LE(BigInt(i % t.shape[t.shape.length - 1]), i * 8);
        writeAll(fd, buf);
        continue;
      }
      const gen = createNormalGenerator(seed, t.canonical);
      const mean = t.kind === 'layernorm-weight' ? 1 : 0;
      for (let done = 0; done < t.numel; done += CHUNK_ELEMENTS) {
        const n = Math.min(CHUNK_ELEMENTS, t.numel - done);
        gen.fill(f32, n, mean, t.head ? headStd : std);
        if (dtype === 'F32') {
          if (!littleEndian) for (let i = 0; i < n; i++) dv32.setUint32(i * 4, u32[i], true);
          writeAll(fd, f32Bytes.subarray(0, n * 4));
        } else {
          if (dtype === 'F16') {
            for (let i = 0; i < n; i++) {
              const f = i32[i];
              const a = f & 0x7fffffff;
              if (a >= 0x38800000 && a < 0x47800000) {
                // normal half (the common case), branch-free rounding: rebias the exponent, add 0xfff plus the lowest
                // kept bit, truncate; a carry into the exponent (up to Inf) is the correct result.
                u16[i] = ((f >>> 16) & 0x8000) | ((a - 0x38000000 + 0xfff + ((a >>> 13) & 1)) >>> 13);
              } else u16[i] = float32BitsToFloat16Bits(f);
            }
          }
          else {
            for (let i = 0; i < n; i++) {
              const f = i32[i];
              if ((f & 0x7f800000) === 0x7f800000 && (f & 0x7fffff) !== 0) u16[i] = float32BitsToBfloat16Bits(f);
              else u16[i] = (f + 0x7fff + ((f >>> 16) & 1)) >>> 16; // same rounding as float32BitsToBfloat16Bits
            }
          }
          if (!littleEndian) for (let i = 0; i < n; i++) dv16.setUint16(i * 2, u16[i], true);
          writeAll(fd, u16Bytes.subarray(0, n * 2));
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return { headerLength: headerBytes.length, dataBytes: offset, fileBytes: 8 + headerBytes.length + offset };
}

// ---------------------------------------------------------------------------------------------------------------
// makeCheckpoint
// ---------------------------------------------------------------------------------------------------------------

/** Number of tokens in a vocab.txt (one per line; a final newline does not start another token). */
export function countVocabLines(text) {
  if (text.length === 0) return 0;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.length;
}

function readJson(p) {
  return JSON.parse(fs.readFileSync(p, 'utf8'));
}

/**
 * @param {object} options
 * @param {object} [options.config]        config object (alternative to configPath)
 * @param {string} [options.configPath]    path of a config.json
 * @param {string} options.outDir
 * @param {number|string} [options.seed=1]
 * @param {'F32'|'F16'|'BF16'} [options.dtype='F32']
 * @param {number} [options.std=0.02]
 * @param {string} [options.prefix='']     e.g. 'bert.'
 * @param {boolean} [options.legacyLayerNorm=false]  write LayerNorm.gamma / LayerNorm.beta
 * @param {string} [options.vocabPath]     default: vocab.txt beside configPath
 * @param {object} [options.overrides]     partial config applied on top of the config
 * @param {boolean} [options.includePositionIds=false] write int64 embeddings.position_ids [1, max_position_embeddings]
 * @param {boolean} [options.mlmHead=false]  also write BertForMaskedLM's head (cls.*, never prefixed)
 * @param {boolean} [options.untiedDecoder=false] also write cls.predictions.decoder.weight / .bias (implies mlmHead)
 * @param {number} [options.headStd=std]   std of the head's tensors
 * @param {{labels: string[], problemType?: string}} [options.classifier] also write BertForSequenceClassification's
 *   classifier (classifier.*, one row per label), with id2label / label2id and problem_type in config.json
 * @param {{labels: string[]}} [options.tokenClassifier] write BertForTokenClassification instead: the same classifier.*
 *   tensors (a label's row is applied to every token), no pooler (transformers builds it with add_pooling_layer=False),
 *   id2label / label2id, and no sentence-transformers files
 * @param {object} [options.tokenizerConfig] fields set in the tokenizer_config.json written (e.g. model_max_length)
 */
export async function makeCheckpoint(options) {
  const started = performance.now();
  const {
    outDir,
    seed = 1,
    dtype: dtypeIn = 'F32',
    std = 0.02,
    prefix: prefixIn = '',
    legacyLayerNorm = false,
    overrides = {},
    includePositionIds = false,
    untiedDecoder = false,
  } = options ?? {};
  const mlmHead = Boolean(options?.mlmHead || untiedDecoder);
  const headStd = options?.headStd ?? std;
  if (!outDir) throw new Error('makeCheckpoint: outDir is required');
  const dtype = String(dtypeIn).toUpperCase();
  if (!(dtype in DTYPE_BYTES)) throw new Error(`makeCheckpoint: dtype must be F32, F16 or BF16 (got ${dtypeIn})`);
  if (!(typeof std === 'number' && std >= 0 && Number.isFinite(std))) throw new Error(`makeCheckpoint: bad std ${std}`);
  if (!(typeof headStd === 'number' && headStd >= 0 && Number.isFinite(headStd))) throw new Error(`makeCheckpoint: bad headStd ${headStd}`);
  const prefix = prefixIn && !prefixIn.endsWith('.') ? `${prefixIn}.` : prefixIn || '';

  const configPath = options.configPath ? path.resolve(options.configPath) : undefined;
  let baseConfig;
  if (options.config) baseConfig = structuredClone(options.config);
  else if (configPath) baseConfig = readJson(configPath);
  else throw new Error('makeCheckpoint: give config or configPath');
  const sourceDir = configPath ? path.dirname(configPath) : undefined;

  const vocabPath = options.vocabPath
    ? path.resolve(options.vocabPath)
    : sourceDir && fs.existsSync(path.join(sourceDir, 'vocab.txt'))
      ? path.join(sourceDir, 'vocab.txt')
      : undefined;
  if (!vocabPath) throw new Error('makeCheckpoint: no vocab.txt (give vocabPath, or a configPath with a vocab.txt beside it)');
  const vocabText = fs.readFileSync(vocabPath, 'utf8');
  const vocabLines = countVocabLines(vocabText);

  const config = { ...baseConfig, ...overrides, model_type: 'bert' };
  if (mlmHead) config.architectures = ['BertForMaskedLM'];
  const tokenClassifier = options?.tokenClassifier;
  if (tokenClassifier && options?.classifier) throw new Error('makeCheckpoint: give classifier or tokenClassifier, not both');
  const classifier = options?.classifier ?? tokenClassifier;
  if (classifier) {
    if (!Array.isArray(classifier.labels) || classifier.labels.length === 0) throw new Error('makeCheckpoint: classifier.labels must be a non-empty array');
    config.architectures = [tokenClassifier ? 'BertForTokenClassification' : 'BertForSequenceClassification'];
    config.id2label = Object.fromEntries(classifier.labels.map((label, id) => [String(id), label]));
    config.label2id = Object.fromEntries(classifier.labels.map((label, id) => [label, id]));
    if (classifier.problemType) config.problem_type = classifier.problemType;
  }
  // Hugging Face ties the decoder to the word embeddings unless told otherwise (and would then drop or warn about an
  // untied decoder.weight).
  if (untiedDecoder) config.tie_word_embeddings = false;
  if (overrides.vocab_size === undefined) config.vocab_size = vocabLines;
  config.hidden_act ??= 'gelu';
  config.type_vocab_size ??= 2;
  config.max_position_embeddings ??= 512;
  config.layer_norm_eps ??= 1e-12;
  for (const k of ['hidden_size', 'num_attention_heads', 'num_hidden_layers', 'intermediate_size', 'vocab_size', 'max_position_embeddings', 'type_vocab_size']) {
    if (!Number.isInteger(config[k]) || config[k] <= 0) throw new Error(`makeCheckpoint: config.${k} must be a positive integer (got ${config[k]})`);
  }
  if (config.hidden_size % config.num_attention_heads !== 0) {
    throw new Error(`makeCheckpoint: hidden_size ${config.hidden_size} is not a multiple of num_attention_heads ${config.num_attention_heads}`);
  }

  fs.mkdirSync(outDir, { recursive: true });
  const files = [];
  const put = (name, content) => {
    const p = path.join(outDir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
    files.push(name);
  };
  put('config.json', JSON.stringify(config, null, 2) + '\n');
  put('vocab.txt', vocabText);
  // Tokenizer files come from beside the vocab (they must agree with it); sentence-transformers files from beside the config.
  const tokDir = options.vocabPath ? path.dirname(vocabPath) : sourceDir;
  const tokConfigPath = tokDir && path.join(tokDir, 'tokenizer_config.json');
  if (options?.tokenizerConfig) {
    const base = tokConfigPath && fs.existsSync(tokConfigPath) ? readJson(tokConfigPath) : { do_lower_case: true };
    put('tokenizer_config.json', JSON.stringify({ ...base, ...options.tokenizerConfig }) + '\n');
  } else if (tokConfigPath && fs.existsSync(tokConfigPath)) put('tokenizer_config.json', fs.readFileSync(tokConfigPath));
  else put('tokenizer_config.json', JSON.stringify({ do_lower_case: true }) + '\n');
  if (tokDir && fs.existsSync(path.join(tokDir, 'tokenizer.json'))) put('tokenizer.json', fs.readFileSync(path.join(tokDir, 'tokenizer.json')));
  if (!tokenClassifier && sourceDir && fs.existsSync(path.join(sourceDir, 'sentence_bert_config.json'))) {
    put('sentence_bert_config.json', fs.readFileSync(path.join(sourceDir, 'sentence_bert_config.json')));
  }
  if (!tokenClassifier && sourceDir && fs.existsSync(path.join(sourceDir, '1_Pooling', 'config.json'))) {
    const pooling = readJson(path.join(sourceDir, '1_Pooling', 'config.json'));
    // Keep it consistent with an overridden hidden size.
    if ('word_embedding_dimension' in pooling) pooling.word_embedding_dimension = config.hidden_size;
    put(path.join('1_Pooling', 'config.json'), JSON.stringify(pooling, null, 2) + '\n');
  }

  // num_labels is not a config.json field transformers writes (id2label says it), only the classifier's shape.
  const shapeConfig = classifier ? { ...config, num_labels: classifier.labels.length } : config;
  const tensors = planTensors(shapeConfig, { prefix, legacyLayerNorm, includePositionIds, pooler: !tokenClassifier, mlmHead, untiedDecoder, classifierHead: Boolean(classifier) });
  const finalPath = path.join(outDir, 'model.safetensors');
  const tmpPath = `${finalPath}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  let info;
  try {
    info = writeSafetensors(tmpPath, tensors, { dtype, std, headStd, seed });
    fs.renameSync(tmpPath, finalPath);
  } catch (err) {
    fs.rmSync(tmpPath, { force: true });
    throw err;
  }
  files.push('model.safetensors');
  const parameters = tensors.filter((t) => t.kind !== 'position-ids').reduce((s, t) => s + t.numel, 0);
  return {
    outDir: path.resolve(outDir),
    config,
    files,
    dtype,
    seed,
    prefix,
    legacyLayerNorm,
    includePositionIds,
    mlmHead,
    untiedDecoder,
    tensors: tensors.map((t) => ({ name: t.name, shape: t.shape })),
    parameters,
    bytes: info.fileBytes,
    ms: performance.now() - started,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------------------------

const USAGE = `usage: node scripts/make-checkpoint.mjs --config CONFIG.json --out DIR [--seed 1] [--dtype F32|F16|BF16]
  [--std 0.02] [--prefix bert.] [--legacy-layernorm] [--vocab VOCAB.txt] [--include-position-ids]
  [--hidden N] [--heads N] [--layers N] [--intermediate N] [--max-position N] [--type-vocab N]
  [--act gelu|gelu_new|relu|...] [--eps X] [--vocab-size N] [--set key=jsonValue]...
  [--mlm-head] [--untied-decoder] [--head-std X] [--quiet]`;

const INT_OVERRIDES = {
  '--hidden': 'hidden_size',
  '--heads': 'num_attention_heads',
  '--layers': 'num_hidden_layers',
  '--intermediate': 'intermediate_size',
  '--max-position': 'max_position_embeddings',
  '--type-vocab': 'type_vocab_size',
  '--vocab-size': 'vocab_size',
};

export function parseArgs(argv) {
  const opts = { overrides: {} };
  let quiet = false;
  const need = (i, flag) => {
    if (i + 1 >= argv.length) throw new Error(`${flag} needs a value\n${USAGE}`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let inline;
    if (a.startsWith('--') && a.includes('=') && a !== '--set') {
      inline = a.slice(a.indexOf('=') + 1);
      a = a.slice(0, a.indexOf('='));
    }
    const val = () => (inline !== undefined ? inline : need(i++, a));
    if (a === '--config') opts.configPath = val();
    else if (a === '--out') opts.outDir = val();
    else if (a === '--seed') {
      const v = val();
      opts.seed = /^-?\d+$/.test(v) ? Number(v) : v;
    } else if (a === '--dtype') opts.dtype = val();
    else if (a === '--std') opts.std = Number(val());
    else if (a === '--prefix') opts.prefix = val();
    else if (a === '--legacy-layernorm') opts.legacyLayerNorm = true;
    else if (a === '--include-position-ids') opts.includePositionIds = true;
    else if (a === '--mlm-head') opts.mlmHead = true;
    else if (a === '--untied-decoder') {
      opts.mlmHead = true;
      opts.untiedDecoder = true;
    } else if (a === '--head-std') opts.headStd = Number(val());
    else if (a === '--vocab') opts.vocabPath = val();
    else if (a === '--act') opts.overrides.hidden_act = val();
    else if (a === '--eps') opts.overrides.layer_norm_eps = Number(val());
    else if (a in INT_OVERRIDES) {
      const v = val();
      if (!/^\d+$/.test(v)) throw new Error(`${a} needs a positive integer (got ${v})`);
      opts.overrides[INT_OVERRIDES[a]] = Number(v);
    } else if (a === '--set') {
      const kv = val();
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new Error(`--set needs key=value (got ${kv})`);
      const k = kv.slice(0, eq);
      const raw = kv.slice(eq + 1);
      let v;
      try {
        v = JSON.parse(raw);
      } catch {
        v = raw;
      }
      opts.overrides[k] = v;
    } else if (a === '--quiet' || a === '-q') quiet = true;
    else if (a === '--help' || a === '-h') {
      opts.help = true;
    } else throw new Error(`unknown argument ${argv[i]}\n${USAGE}`);
  }
  return { opts, quiet };
}

async function main() {
  let parsed;
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(err.message);
    process.exit(2);
  }
  const { opts, quiet } = parsed;
  if (opts.help) {
    console.log(USAGE);
    return;
  }
  if (!opts.configPath || !opts.outDir) {
    console.error(USAGE);
    process.exit(2);
  }
  const res = await makeCheckpoint(opts);
  if (!quiet) {
    const { tensors, config, ...rest } = res;
    console.log(JSON.stringify({ ...rest, tensorCount: tensors.length, ms: Math.round(res.ms) }, null, 2));
  }
}

function isMain() {
  if (!process.argv[1]) return false;
  try {
    return fs.realpathSync(process.argv[1]) === fs.realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return import.meta.url === pathToFileURL(process.argv[1]).href;
  }
}

if (isMain()) {
  main().catch((err) => {
    console.error(err?.stack ?? String(err));
    process.exit(1);
  });
}
