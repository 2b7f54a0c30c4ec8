// The engines the peer benchmarks compare, each opened in the calling process, the ONNX files
// transformers.js needs, and sentence-transformers (bench/st_peer.py) kept open in a Python process
// of its own. Shared by bench/peers.mjs (STS-B) and bench/fixed-length.mjs.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { repoRoot } from '../scripts/example-fixtures.mjs';
import { describeHost } from './host.mjs';

/** What the sentence-transformers peer runs on: the .venv's torch (CPU build), transformers and sentence-transformers. */
export const venvPython = path.join(repoRoot, '.venv', 'bin', 'python');

/** `${checkpoint}-onnx` with onnx/model.onnx (fp32) and onnx/model_quantized.onnx (q8), written once. */
export function onnxExportOf(checkpoint) {
  const onnxDir = `${checkpoint}-onnx`;
  if (!fs.existsSync(path.join(onnxDir, 'onnx', 'model.onnx'))) {
    execFileSync('/usr/bin/python3', [path.join(repoRoot, 'scripts', 'export-onnx.py'), checkpoint, onnxDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  quantizeOnnxOnce(onnxDir);
  return onnxDir;
}

/** onnx/model_quantized.onnx (transformers.js's q8) beside an export's onnx/model.onnx, written once. */
export function quantizeOnnxOnce(onnxDir) {
  if (!fs.existsSync(path.join(onnxDir, 'onnx', 'model_quantized.onnx'))) {
    execFileSync('/usr/bin/python3', [path.join(repoRoot, 'scripts', 'quantize-onnx.py'), onnxDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
}

/**
 * `${checkpoint}-st`: the checkpoint as a sentence-transformers directory, so that
 * SentenceTransformer(dir) loads it as a Python user's model would be: the checkpoint's files
 * linked (config.json, model.safetensors, the tokenizer's), and modules.json with Transformer →
 * 1_Pooling (mean) → 2_Normalize, sentence_bert_config.json (max_seq_length; the peer sets it per
 * request anyway) and config_sentence_transformers.json written. Rewritten on every call (small).
 */
export function sentenceTransformersDirOf(checkpoint, maxSeqLen = 128) {
  const stDir = `${checkpoint}-st`;
  fs.mkdirSync(path.join(stDir, '1_Pooling'), { recursive: true });
  fs.mkdirSync(path.join(stDir, '2_Normalize'), { recursive: true });
  for (const name of ['config.json', 'model.safetensors', 'vocab.txt', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
    const target = path.resolve(checkpoint, name);
    const link = path.join(stDir, name);
    fs.rmSync(link, { force: true });
    if (fs.existsSync(target)) fs.symlinkSync(target, link);
  }
  const config = JSON.parse(fs.readFileSync(path.join(checkpoint, 'config.json'), 'utf8'));
  const json = (name, value) => fs.writeFileSync(path.join(stDir, name), `${JSON.stringify(value, null, 2)}\n`);
  json('modules.json', [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
    { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
  ]);
  json('sentence_bert_config.json', { max_seq_length: maxSeqLen, do_lower_case: false });
  json(path.join('1_Pooling', 'config.json'), {
    word_embedding_dimension: config.hidden_size,
    pooling_mode_cls_token: false,
    pooling_mode_mean_tokens: true,
    pooling_mode_max_tokens: false,
    pooling_mode_mean_sqrt_len_tokens: false,
  });
  json('config_sentence_transformers.json', { similarity_fn_name: 'cosine' });
  return stDir;
}

/**
 * sentence-transformers in a Python process of its own (bench/st_peer.py, .venv/bin/python), the
 * model loaded once with `threads` intra-op threads and kept open. `await peer.ready` before timing
 * anything else (the load takes both cores); `request(message)` answers one JSON line; see
 * bench/st_peer.py for the messages. Its stderr is dropped (transformers' and torch's messages);
 * a failure shows as the exit code and the last lines of it.
 */
export function startSentenceTransformers(stDir, threads) {
  if (!fs.existsSync(venvPython)) throw new Error(`${venvPython} is missing: \`npm run setup\` makes .venv with sentence-transformers`);
  const child = spawn(venvPython, [path.join(repoRoot, 'bench', 'st_peer.py'), '--model', stDir, '--threads', String(threads)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const waiting = [];
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  readline.createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.resolve(JSON.parse(line)));
  child.on('exit', (code, signal) => {
    for (const pending of waiting.splice(0)) pending.reject(new Error(`bench/st_peer.py exited (${code ?? signal}):\n${stderr}`));
  });
  const next = () => new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  return {
    ready: next(),
    request: (message) => {
      const answer = next();
      child.stdin.write(`${JSON.stringify(message)}\n`);
      return answer;
    },
    kill: () => child.kill(),
  };
}

export function readVectors(file) {
  const bytes = fs.readFileSync(file);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
}

/** Worst cosine over the rows, and the largest |difference| of any element, between two sets of `dim`-wide rows. */
export function compareVectors(a, b, dim) {
  if (a.length !== b.length) throw new Error(`${a.length / dim} rows against ${b.length / dim}`);
  let worstCosine = 1;
  let maxAbsDiff = 0;
  for (let row = 0; row < a.length / dim; row++) {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = row * dim; i < (row + 1) * dim; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a[i] - b[i]));
    }
    worstCosine = Math.min(worstCosine, dot / Math.sqrt(na * nb));
  }
  return { worstCosine, maxAbsDiff };
}

/** What an fp32 peer's normalized vectors must meet against ours fp32 before its timing counts. */
export const FP32_FLOOR = { worstCosine: 0.9999, maxAbsDiff: 1e-3 };

/**
 * One engine on one model directory (the checkpoint for ours, its ONNX export for transformers.js):
 * `encode(texts)` gives mean-pooled, normalized vectors of the last layer as one Float32Array.
 * `ourOptions`: more Encoder.load options for ours (threads, say).
 */
export async function openEngine(engine, dir, maxSeqLen, ourOptions = {}) {
  if (engine === 'ours' || engine === 'ours int8' || engine === 'ours bf16') {
    const { Encoder } = await import('../dist/index.js');
    const dtype = { ours: 'float32', 'ours int8': 'int8', 'ours bf16': 'bfloat16' }[engine];
    const encoder = await Encoder.load(dir, { pooling: 'REDUCE_MEAN', layers: [-1], normalize: true, maxSeqLen, dtype, ...ourOptions });
    return { encode: async (texts) => (await encoder.encode(texts)).data, close: () => encoder.close() };
  }
  if (engine === 'transformers.js' || engine === 'transformers.js q8') {
    const { pipeline, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = path.dirname(dir);
    const extractor = await pipeline('feature-extraction', path.basename(dir), { dtype: engine === 'transformers.js' ? 'fp32' : 'q8' });
    return { encode: async (texts) => (await extractor(texts, { pooling: 'mean', normalize: true })).data, close: () => extractor.dispose() };
  }
  throw new Error(`unknown engine ${engine}`);
}

/** The machine and the run, for a table's heading: cores, CPU model, passes counted, today's date. */
export function runDescription(passes) {
  return `${os.availableParallelism()} cores (${describeHost()}), default threads, median of ${passes} passes, ${new Date().toISOString().slice(0, 10)}`;
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Replaces what stands between <!-- name --> and <!-- /name --> in BENCHMARKS.md; says so when the markers are missing. */
export function writeIntoBenchmarks(name, table) {
  const file = path.join(repoRoot, 'BENCHMARKS.md');
  const begin = `<!-- ${name} -->`;
  const end = `<!-- /${name} -->`;
  const text = fs.readFileSync(file, 'utf8');
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) {
    console.error(`BENCHMARKS.md has no ${begin} … ${end} markers: the table is printed only`);
    return;
  }
  fs.writeFileSync(file, `${text.slice(0, from + begin.length)}\n${table}\n${text.slice(to)}`);
  console.error(`wrote the table into BENCHMARKS.md (${begin})`);
}
