#!/usr/bin/env node
// bert-as-service's max_seq_len table with the peers beside us: fixed-length synthetic sentences
// (whole-word vocabulary entries, one token each, as `bert-embed bench` makes them) at each
// max_seq_len, through ours, transformers.js and sentence-transformers in fp32, and ours int8
// against transformers.js q8, on the same random-weight checkpoint. Batches of 32 sentences: one
// call each for ours and transformers.js; SentenceTransformer(dir, device='cpu').encode(sentences,
// batch_size=32) for sentence-transformers (bench/st_peer.py on the .venv's torch, the model loaded
// once before anything is timed, kept open, its max_seq_length set per row). The same intra-op
// thread count for every engine: the cores (torch.set_num_threads in the Python peer). At each
// max_seq_len, sentence-transformers' vectors are checked against ours fp32 (worst cosine >= 0.9999,
// no element more than 1e-3 away) before it is timed, and the run stops when they differ.
// Each engine runs in its own process; after a warm-up pass, the median of --passes passes counts.
// The table goes to stdout and into BENCHMARKS.md between <!-- fixed-length:MODEL --> markers
// (unless --print-only).
//
//   node bench/fixed-length.mjs [--model all-MiniLM-L6-v2] [--max-seq-lens 20,40,80,160,320] [--sentences 256] [--passes 3]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomWeightCheckpoint } from '../scripts/example-fixtures.mjs';
import {
  FP32_FLOOR,
  compareVectors,
  onnxExportOf,
  openEngine,
  percentile,
  readVectors,
  runDescription,
  sentenceTransformersDirOf,
  startSentenceTransformers,
  writeIntoBenchmarks,
} from './peer-engines.mjs';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'all-MiniLM-L6-v2' },
    'max-seq-lens': { type: 'string', default: '20,40,80,160,320' },
    sentences: { type: 'string', default: '256' },
    passes: { type: 'string', default: '3' },
    engine: { type: 'string' },
    dir: { type: 'string' },
    out: { type: 'string' },
    'print-only': { type: 'boolean', default: false },
  },
});
const BATCH = 32;
const count = Number(args.sentences);
const maxSeqLens = args['max-seq-lens'].split(',').map(Number);

/**
 * One engine in this process: seconds per pass for each max_seq_len, as JSON on stdout; with `out`,
 * the last pass's vectors at each max_seq_len to `${out}-${maxSeqLen}.f32`.
 */
async function runEngine(engine, dir, out) {
  const { WordPieceTokenizer } = await import('../dist/index.js');
  const { syntheticSentences } = await import('../dist/cli/commands/bench.js');
  const tokenizer = WordPieceTokenizer.fromModelDir(dir);
  const seconds = {};
  for (const maxSeqLen of maxSeqLens) {
    const sentences = syntheticSentences(tokenizer, count, maxSeqLen);
    const opened = await openEngine(engine, dir, maxSeqLen);
    let vectors = [];
    const pass = async () => {
      vectors = [];
      const started = performance.now();
      for (let start = 0; start < sentences.length; start += BATCH) vectors.push(await opened.encode(sentences.slice(start, start + BATCH)));
      return (performance.now() - started) / 1000;
    };
    await pass(); // warm-up
    const passes = [];
    for (let i = 0; i < Number(args.passes); i++) passes.push(await pass());
    await opened.close();
    seconds[maxSeqLen] = percentile(passes, 50);
    if (out) fs.writeFileSync(`${out}-${maxSeqLen}.f32`, Buffer.concat(vectors.map((v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength))));
  }
  process.stdout.write(JSON.stringify(seconds));
}

if (args.engine) {
  await runEngine(args.engine, args.dir, args.out);
} else {
  const checkpoint = await randomWeightCheckpoint(args.model, args.model === 'all-MiniLM-L6-v2' ? 'minilm' : args.model);
  const onnxDir = onnxExportOf(checkpoint);
  const stDir = sentenceTransformersDirOf(checkpoint);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'be-fixed-length-'));
  const oursVectors = path.join(work, 'ours');
  const engines = { ours: checkpoint, 'transformers.js': onnxDir, 'ours int8': checkpoint, 'transformers.js q8': onnxDir };
  const seconds = {};
  // The Python peer loads its model once, before anything is timed, and stays open (idle meanwhile).
  const st = startSentenceTransformers(stDir, os.availableParallelism());
  let python;
  try {
    console.error(`sentence-transformers: loaded in ${(await st.ready).loadSeconds.toFixed(1)} s`);
    for (const [engine, dir] of Object.entries(engines)) {
      const childArgs = [fileURLToPath(import.meta.url), '--engine', engine, '--dir', dir, '--max-seq-lens', args['max-seq-lens'], '--sentences', args.sentences, '--passes', args.passes];
      if (engine === 'ours') childArgs.push('--out', oursVectors);
      seconds[engine] = JSON.parse(execFileSync(process.execPath, childArgs, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
      console.error(`${engine}: ${maxSeqLens.map((n) => `${n} → ${(count / seconds[engine][n]).toFixed(0)}/s`).join(', ')}`);
    }
    const { WordPieceTokenizer } = await import('../dist/index.js');
    const { syntheticSentences } = await import('../dist/cli/commands/bench.js');
    const tokenizer = WordPieceTokenizer.fromModelDir(checkpoint);
    seconds['sentence-transformers'] = {};
    for (const maxSeqLen of maxSeqLens) {
      const request = { texts: syntheticSentences(tokenizer, count, maxSeqLen), maxSeqLen };
      // The check (and the warm-up) before this row is timed.
      const out = path.join(work, `sentence-transformers-${maxSeqLen}.f32`);
      await st.request({ op: 'vectors', out, ...request });
      const ours = readVectors(`${oursVectors}-${maxSeqLen}.f32`);
      const { worstCosine, maxAbsDiff } = compareVectors(ours, readVectors(out), ours.length / count);
      console.error(`sentence-transformers at ${maxSeqLen}: worst cosine to ours fp32 ${worstCosine.toFixed(6)}, max |Δ| ${maxAbsDiff.toExponential(1)}`);
      if (!(worstCosine >= FP32_FLOOR.worstCosine && maxAbsDiff <= FP32_FLOOR.maxAbsDiff)) {
        throw new Error(`sentence-transformers at max_seq_len ${maxSeqLen}: worst cosine to ours ${worstCosine}, max |Δ| ${maxAbsDiff}: not the same work, not timing it`);
      }
      const { passes } = await st.request({ op: 'passes', passes: Number(args.passes), ...request });
      seconds['sentence-transformers'][maxSeqLen] = percentile(passes, 50);
    }
    console.error(`sentence-transformers: ${maxSeqLens.map((n) => `${n} → ${(count / seconds['sentence-transformers'][n]).toFixed(0)}/s`).join(', ')}`);
    python = await st.request({ op: 'exit' });
  } finally {
    st.kill();
    fs.rmSync(work, { recursive: true, force: true });
  }
  const rate = (engine, n) => count / seconds[engine][n];
  const ratio = (a, b, n) => `${(rate(a, n) / rate(b, n)).toFixed(2)}×`;
  const lines = [
    `${args.model} shape (random weights), ${count} sentences of exactly max_seq_len tokens, batches of ${BATCH}, mean pooling + normalize, ` +
      `${runDescription(args.passes)}; sentence-transformers: ${python.versions}, ${python.threads}, encode(batch_size=${BATCH})`,
    '',
    '| max_seq_len | ours fp32 sentences/s | transformers.js fp32 | ours ÷ transformers.js | sentence-transformers fp32 | ours ÷ sentence-transformers | ours int8 sentences/s | transformers.js q8 | ours int8 ÷ q8 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const n of maxSeqLens) {
    lines.push(
      `| ${n} | ${rate('ours', n).toFixed(1)} | ${rate('transformers.js', n).toFixed(1)} | ${ratio('ours', 'transformers.js', n)} | ` +
        `${rate('sentence-transformers', n).toFixed(1)} | ${ratio('ours', 'sentence-transformers', n)} | ` +
        `${rate('ours int8', n).toFixed(1)} | ${rate('transformers.js q8', n).toFixed(1)} | ${ratio('ours int8', 'transformers.js q8', n)} |`,
    );
  }
  const table = lines.join('\n');
  console.log(table);
  if (!args['print-only']) writeIntoBenchmarks(`fixed-length:${args.model}`, table);
}
