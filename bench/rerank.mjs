#!/usr/bin/env node
// Cross-encoder reranking against the peers, on one random-weight cross-encoder shaped like
// cross-encoder/ms-marco-MiniLM-L-6-v2 (all-MiniLM-L6-v2's config, BertForSequenceClassification with one label,
// scripts/make-checkpoint.mjs, .fixtures/bench/), in one run; query–document pairs scored per second:
//   - ours: encoder.classify(pairs) in one call (the scheduler batches by length; one label → sigmoid);
//   - sentence-transformers: CrossEncoder(dir, max_length=128).predict(pairs, batch_size=32) on the .venv's torch
//     (CPU build), bench/rerank_peer.py, kept open in its own process;
//   - transformers.js (onnxruntime-node) on an ONNX export of the same weights (bench/rerank_peer.py export-onnx:
//     transformers' BertForSequenceClassification, output logits): its tokenizer with text_pair, 32 pairs a call to
//     AutoModelForSequenceClassification, sigmoid of the logits in JS (transformers.js's own cross-encoder recipe),
//     pairs sorted by length first as CrossEncoder does.
//   - int8: ours with dtype 'int8' (dynamic quantization of the linear layers) and transformers.js on the same export
//     quantized as its q8 models are (scripts/quantize-onnx.py); each must rank the pairs as ours float32 does
//     (Spearman ≥ 0.95: random weights cluster the scores, so int8 rounding reorders neighbours, more visibly in
//     a small --pairs sample; a broken quantization is near 0) before it is timed.
// Workload: the first --pairs STS-B test pairs (sentence 1 as the query, sentence 2 as the document), max_seq_len 128.
// The same intra-op thread count for every engine (--threads, default the cores). Before any timing, every peer's
// scores must be within 1e-4 of ours for every pair, or the run stops. Engines take turns for --rounds rounds, each an
// untimed warm-up pass and --passes timed passes; the median pass counts (the host is shared and noisy).
//
// The table goes to stdout and into BENCHMARKS.md between <!-- rerank --> and <!-- /rerank --> (unless --print-only).
//
//   npx tsc -p tsconfig.json && node bench/rerank.mjs [--pairs 1379] [--rounds 2] [--passes 2] [--threads N] [--print-only]
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { readStsPairs, repoRoot, sharedDir } from '../scripts/example-fixtures.mjs';
import { makeCheckpoint } from '../scripts/make-checkpoint.mjs';
import { describeHost } from './host.mjs';
import { quantizeOnnxOnce, writeIntoBenchmarks } from './peer-engines.mjs';

const { values: args } = parseArgs({
  options: {
    pairs: { type: 'string', default: '1379' },
    rounds: { type: 'string', default: '2' },
    passes: { type: 'string', default: '2' },
    threads: { type: 'string', default: String(os.availableParallelism()) },
    'print-only': { type: 'boolean', default: false },
  },
});
const MAX_SEQ_LEN = 128;
const BATCH = 32;
const TOLERANCE = 1e-4;
const MIN_SPEARMAN = 0.95;
const threads = Number(args.threads);
const benchDir = path.join(repoRoot, '.fixtures', 'bench');
const checkpoint = path.join(benchDir, 'cross-encoder-minilm-l6');
const onnxDir = `${checkpoint}-onnx`;
const python = path.join(repoRoot, '.venv', 'bin', 'python');
const peerScript = path.join(repoRoot, 'bench', 'rerank_peer.py');

async function fixtures() {
  if (!fs.existsSync(path.join(checkpoint, 'model.safetensors'))) {
    console.error(`writing a random-weight MiniLM-L6 cross-encoder checkpoint to ${checkpoint}`);
    await makeCheckpoint({
      configPath: path.join(sharedDir, 'models', 'all-MiniLM-L6-v2', 'config.json'),
      outDir: checkpoint,
      seed: 41,
      std: 0.05,
      prefix: 'bert.',
      classifier: { labels: ['LABEL_0'] },
      overrides: { sentence_transformers: { activation_fn: 'torch.nn.modules.activation.Sigmoid' } },
    });
  }
  if (!fs.existsSync(path.join(onnxDir, 'onnx', 'model.onnx'))) {
    console.error(`exporting it to ONNX in ${onnxDir}`);
    execFileSync(python, [peerScript, 'export-onnx', checkpoint, onnxDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  quantizeOnnxOnce(onnxDir);
}

/** sentence-transformers' CrossEncoder in its own process: one JSON request, one JSON reply. */
function startSentenceTransformers() {
  const child = spawn(python, [peerScript, 'serve', '--model', checkpoint, '--threads', String(threads), '--batch', String(BATCH), '--max-length', String(MAX_SEQ_LEN)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error('rerank_peer.py exited');
    return JSON.parse(value);
  };
  return {
    ready: next(),
    ask: async (request) => {
      child.stdin.write(JSON.stringify(request) + '\n');
      return next();
    },
  };
}

/** transformers.js's cross-encoder recipe on the ONNX export, in `dtype` 'fp32' (model.onnx) or 'q8' (model_quantized.onnx). */
async function openTransformersJs(dtype) {
  const { AutoTokenizer, AutoModelForSequenceClassification, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = path.dirname(onnxDir);
  const name = path.basename(onnxDir);
  const tokenizer = await AutoTokenizer.from_pretrained(name);
  const model = await AutoModelForSequenceClassification.from_pretrained(name, { dtype, session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 } });
  return {
    async scores(pairs) {
      // longest first, as CrossEncoder.predict sorts, so that a batch pads little
      const order = pairs.map((_, i) => i).sort((a, b) => pairs[b][0].length + pairs[b][1].length - (pairs[a][0].length + pairs[a][1].length));
      const out = new Array(pairs.length);
      for (let start = 0; start < order.length; start += BATCH) {
        const batch = order.slice(start, start + BATCH);
        const inputs = tokenizer(batch.map((i) => pairs[i][0]), { text_pair: batch.map((i) => pairs[i][1]), padding: true, truncation: true, max_length: MAX_SEQ_LEN });
        const { logits } = await model(inputs);
        const values = logits.sigmoid().data;
        batch.forEach((i, row) => (out[i] = values[row]));
      }
      return out;
    },
    close: () => model.dispose(),
  };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Spearman's rank correlation (no ties in float scores of distinct pairs). */
function spearman(a, b) {
  const ranks = (values) => {
    const order = values.map((_, i) => i).sort((i, j) => values[i] - values[j]);
    const rank = new Array(values.length);
    order.forEach((index, position) => (rank[index] = position));
    return rank;
  };
  const [ra, rb] = [ranks(a), ranks(b)];
  const n = a.length;
  const squared = ra.reduce((sum, r, i) => sum + (r - rb[i]) ** 2, 0);
  return 1 - (6 * squared) / (n * (n * n - 1));
}

/** A reduced-precision engine must order the pairs as ours float32 does; returns its largest score difference. */
function checkRanking(name, theirs, ours) {
  const rho = spearman(theirs, ours);
  let worst = 0;
  ours.forEach((score, i) => (worst = Math.max(worst, Math.abs(score - theirs[i]))));
  console.error(`${name}: Spearman ${rho.toFixed(5)} to ours float32, largest score difference ${worst.toExponential(2)}`);
  if (!(rho >= MIN_SPEARMAN)) throw new Error(`${name} ranks the pairs unlike ours float32 (Spearman ${rho} < ${MIN_SPEARMAN}): not timing`);
  return { rho, worst };
}

function checkAgainst(name, theirs, ours) {
  let worst = 0;
  ours.forEach((score, i) => (worst = Math.max(worst, Math.abs(score - theirs[i]))));
  console.error(`${name}: largest score difference from ours ${worst.toExponential(2)} over ${ours.length} pairs`);
  if (!(worst <= TOLERANCE)) throw new Error(`${name}'s scores differ from ours by ${worst} (> ${TOLERANCE}): not timing`);
}

async function main() {
  await fixtures();
  const pairs = readStsPairs('test').slice(0, Number(args.pairs)).map((pair) => [pair.first, pair.second]);
  const { Encoder } = await import('../dist/index.js');
  const encoder = await Encoder.load(checkpoint, { maxSeqLen: MAX_SEQ_LEN, threads });
  const encoderInt8 = await Encoder.load(checkpoint, { maxSeqLen: MAX_SEQ_LEN, threads, dtype: 'int8' });
  const scoresOf = (model) => async (texts) => (await model.classify(texts)).map((result) => result.labels[0].score);
  const [ours, oursInt8] = [scoresOf(encoder), scoresOf(encoderInt8)];
  const st = startSentenceTransformers();
  const [tjs, tjsQ8] = [await openTransformersJs('fp32'), await openTransformersJs('q8')];
  await st.ready;

  const reference = await ours(pairs);
  checkAgainst('sentence-transformers', (await st.ask({ op: 'scores', pairs })).scores, reference);
  checkAgainst('transformers.js', await tjs.scores(pairs), reference);
  const reduced = {
    'ours int8': checkRanking('ours int8', await oursInt8(pairs), reference),
    'transformers.js q8': checkRanking('transformers.js q8', await tjsQ8.scores(pairs), reference),
  };

  const timeNode = async (run) => {
    await run(pairs); // warm-up
    const seconds = [];
    for (let pass = 0; pass < Number(args.passes); pass++) {
      const begin = process.hrtime.bigint();
      await run(pairs);
      seconds.push(Number(process.hrtime.bigint() - begin) / 1e9);
    }
    return seconds;
  };
  const ST = 'sentence-transformers CrossEncoder.predict (batch 32)';
  const engines = {
    ours: () => timeNode(ours),
    [ST]: async () => (await st.ask({ op: 'passes', pairs, passes: Number(args.passes) + 1 })).passes.slice(1),
    'transformers.js (ONNX, fp32)': () => timeNode((texts) => tjs.scores(texts)),
    'ours int8': () => timeNode(oursInt8),
    'transformers.js (ONNX, q8)': () => timeNode((texts) => tjsQ8.scores(texts)),
  };
  // each row against ours in the same precision
  const oursFor = { ours: 'ours', [ST]: 'ours', 'transformers.js (ONNX, fp32)': 'ours', 'ours int8': 'ours int8', 'transformers.js (ONNX, q8)': 'ours int8' };
  const passes = Object.fromEntries(Object.keys(engines).map((name) => [name, []]));
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const [name, run] of Object.entries(engines)) {
      const seconds = await run();
      passes[name].push(...seconds);
      console.error(`round ${round + 1} ${name}: ${seconds.map((s) => (pairs.length / s).toFixed(1)).join(', ')} pairs/s`);
    }
  }
  const { versions } = await st.ask({ op: 'exit' });
  await tjs.close();
  await tjsQ8.close();
  await encoder.close();
  await encoderInt8.close();

  const rate = (name) => pairs.length / median(passes[name]);
  const command = `node bench/rerank.mjs --pairs ${args.pairs} --rounds ${args.rounds} --passes ${args.passes} --threads ${threads}`;
  const lines = [
    `Cross-encoder reranking, ${pairs.length} STS-B test pairs (query = sentence 1, document = sentence 2), max_seq_len ${MAX_SEQ_LEN}, ` +
      `random-weight MiniLM-L6 cross-encoder (ms-marco-MiniLM-L-6-v2's shape), ${threads} intra-op threads each; ` +
      `${describeHost()}, median of ${Number(args.rounds) * Number(args.passes)} passes, ` +
      `${new Date().toISOString().slice(0, 10)}; torch ${versions.torch}, sentence-transformers ${versions['sentence-transformers']}. Command: \`${command}\`.`,
    '',
    '| engine | pairs/s | ours (same precision) ÷ engine |',
    '|---|---:|---:|',
    ...Object.keys(engines).map((name) => `| ${name} | ${rate(name).toFixed(1)} | ${(rate(oursFor[name]) / rate(name)).toFixed(2)}× |`),
    '',
    `ours int8 ÷ sentence-transformers (float32): ${(rate('ours int8') / rate(ST)).toFixed(2)}×. Float32 engines: scores within ${TOLERANCE} of ours ` +
      `on every pair. Int8 against ours float32: ${Object.entries(reduced)
        .map(([name, { rho, worst }]) => `${name} Spearman ${rho.toFixed(4)}, largest score difference ${worst.toExponential(1)}`)
        .join('; ')}.`,
  ];
  const table = lines.join('\n');
  console.log(table);
  if (!args['print-only']) writeIntoBenchmarks('rerank', table);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
