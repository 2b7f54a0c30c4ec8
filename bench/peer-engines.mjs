// The engines the peer benchmarks compare, each opened in the calling process, and the ONNX files
// transformers.js needs. Shared by bench/peers.mjs (STS-B) and bench/fixed-length.mjs.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../scripts/example-fixtures.mjs';

/** `${checkpoint}-onnx` with onnx/model.onnx (fp32) and onnx/model_quantized.onnx (q8), written once. */
export function onnxExportOf(checkpoint) {
  const onnxDir = `${checkpoint}-onnx`;
  if (!fs.existsSync(path.join(onnxDir, 'onnx', 'model.onnx'))) {
    execFileSync('/usr/bin/python3', [path.join(repoRoot, 'scripts', 'export-onnx.py'), checkpoint, onnxDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  if (!fs.existsSync(path.join(onnxDir, 'onnx', 'model_quantized.onnx'))) {
    execFileSync('/usr/bin/python3', [path.join(repoRoot, 'scripts', 'quantize-onnx.py'), onnxDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return onnxDir;
}

/**
 * One engine on one model directory (the checkpoint for ours, its ONNX export for transformers.js):
 * `encode(texts)` gives mean-pooled, normalized vectors of the last layer as one Float32Array.
 */
export async function openEngine(engine, dir, maxSeqLen) {
  if (engine === 'ours' || engine === 'ours int8') {
    const { Encoder } = await import('../dist/index.js');
    const dtype = engine === 'ours' ? 'float32' : 'int8';
    const encoder = await Encoder.load(dir, { pooling: 'REDUCE_MEAN', layers: [-1], normalize: true, maxSeqLen, dtype });
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
  return `${os.availableParallelism()} cores (${os.cpus()[0].model.trim()}), default threads, median of ${passes} passes, ${new Date().toISOString().slice(0, 10)}`;
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
