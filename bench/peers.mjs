#!/usr/bin/env node
// Our engine against the peers a Node user would otherwise pick, on the same random-weight
// checkpoint and the same text, in one run:
//   - transformers.js (@huggingface/transformers, onnxruntime-node) on an ONNX export of the
//     checkpoint (scripts/export-onnx.py, python3-torch torch.onnx.export), fp32, and its q8 variant
//     (scripts/quantize-onnx.py: int8 weights per output column, activations quantized per call);
//   - Python eager torch (Debian python3-torch) on the same weights (scripts/trace-hf-style.py's
//     module), batches of 32 sorted by length as sentence-transformers does, ids from our tokenizer.
//   - ours with dtype 'int8' (dynamic quantization of the linear layers), checked at cosine >= 0.99.
// Workload: the 2,758 STS-B test sentences; mean pooling of the last layer, L2-normalized.
// Vectors are checked before timing counts (cosine against our fp32 for every sentence: >= 0.9999
// for the fp32 engines, >= 0.99 for the int8 ones). Each engine runs in its own process, so its peak
// RSS is its own; the processes take turns for --rounds rounds, each timing --passes passes over
// the corpus, and the median pass counts (the host is shared and noisy).
//
// The table goes to stdout and into BENCHMARKS.md, between the markers <!-- peers:MODEL --> and
// <!-- /peers:MODEL --> (unless --print-only).
//
//   npm run bench   (= tsc && node bench/peers.mjs [--model all-MiniLM-L6-v2|bert-base-uncased] [--rounds 2] [--passes 3] [--print-only])
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomWeightCheckpoint, readStsPairs, repoRoot } from '../scripts/example-fixtures.mjs';
import { onnxExportOf, openEngine, percentile, runDescription, writeIntoBenchmarks } from './peer-engines.mjs';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'all-MiniLM-L6-v2' },
    engine: { type: 'string' },
    dir: { type: 'string' },
    out: { type: 'string' },
    'max-seq-len': { type: 'string', default: '128' },
    rounds: { type: 'string', default: '2' },
    passes: { type: 'string', default: '3' },
    'print-only': { type: 'boolean', default: false },
  },
});
const maxSeqLen = Number(args['max-seq-len']);
const sentences = readStsPairs('test').flatMap((pair) => [pair.first, pair.second]);
const BATCH = 32;
const LATENCY_SAMPLES = 200;

/** Indices of `sentences` sorted by token count, in batches of BATCH (what sentence-transformers does). */
function lengthSortedBatches(lengths) {
  const order = lengths.map((length, i) => [length, i]).sort((a, b) => a[0] - b[0]).map(([, i]) => i);
  const batches = [];
  for (let start = 0; start < order.length; start += BATCH) batches.push(order.slice(start, start + BATCH));
  return batches;
}

/** One engine, in this process: vectors to `out`, figures as JSON on stdout. */
async function runEngine(engine, dir, out) {
  const opened = await openEngine(engine, dir, maxSeqLen);
  let encodeAll = () => opened.encode(sentences);
  if (engine.startsWith('transformers.js')) {
    // transformers.js pads every call to its longest sentence: give it length-sorted batches.
    const { WordPieceTokenizer } = await import('../dist/index.js');
    const tokenizer = WordPieceTokenizer.fromModelDir(dir);
    const batches = lengthSortedBatches(sentences.map((s) => tokenizer.encode(s).ids.length));
    const dim = (await opened.encode(['x'])).length;
    encodeAll = async () => {
      const data = new Float32Array(sentences.length * dim);
      for (const batch of batches) {
        const vectors = await opened.encode(batch.map((i) => sentences[i]));
        batch.forEach((sentence, row) => data.set(vectors.subarray(row * dim, (row + 1) * dim), sentence * dim));
      }
      return data;
    };
  }
  const encodeOne = (text) => opened.encode([text]);
  let data = await encodeAll(); // warm-up, and the vectors to check
  const passes = [];
  for (let pass = 0; pass < Number(args.passes); pass++) {
    const started = performance.now();
    data = await encodeAll();
    passes.push((performance.now() - started) / 1000);
  }
  const latencies = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const t = performance.now();
    await encodeOne(sentences[i]);
    latencies.push(performance.now() - t);
  }
  await opened.close();
  fs.writeFileSync(out, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  process.stdout.write(JSON.stringify({ passes, latencies, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
}

function pythonEager(dir, work) {
  // Ids from our tokenizer (identical to HF's, test/tokenizer), so the timing is the model's.
  const idsFile = path.join(work, 'ids.json');
  return (async () => {
    const { WordPieceTokenizer } = await import('../dist/index.js');
    const tokenizer = WordPieceTokenizer.fromModelDir(dir);
    fs.writeFileSync(idsFile, JSON.stringify(sentences.map((s) => tokenizer.encode(s, undefined, { maxLength: maxSeqLen }).ids)));
    const out = path.join(work, 'python.f32');
    const script = `
import importlib.util, json, resource, sys, time, torch
spec = importlib.util.spec_from_file_location('hf', sys.argv[1]); hf = importlib.util.module_from_spec(spec); spec.loader.exec_module(hf)
model, config = hf.load_model(sys.argv[2])
ids = json.load(open(sys.argv[3]))
order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
def encode_all():
    out = torch.zeros(len(ids), config['hidden_size'])
    for start in range(0, len(order), ${BATCH}):
        batch = order[start:start + ${BATCH}]
        length = max(len(ids[i]) for i in batch)
        input_ids = torch.zeros(len(batch), length, dtype=torch.long)
        mask = torch.zeros(len(batch), length, dtype=torch.long)
        for row, i in enumerate(batch):
            input_ids[row, :len(ids[i])] = torch.tensor(ids[i]); mask[row, :len(ids[i])] = 1
        hidden = model(input_ids, mask, torch.zeros_like(input_ids))[0]
        pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        out[batch] = torch.nn.functional.normalize(pooled, dim=-1)
    return out
passes = []
with torch.inference_mode():
    encode_all()
    for _ in range(${Number(args.passes)}):
        started = time.time(); out = encode_all(); passes.append(time.time() - started)
out.numpy().astype('float32').tofile(sys.argv[4])
print(json.dumps({'passes': passes, 'maxRssMiB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 'threads': torch.get_num_threads()}))
`;
    const result = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, path.join(repoRoot, 'scripts', 'trace-hf-style.py'), dir, idsFile, out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    return { ...result, vectors: out };
  })();
}

function readVectors(file) {
  const bytes = fs.readFileSync(file);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
}

function worstCosine(a, b, dim) {
  let worst = 1;
  for (let row = 0; row < a.length / dim; row++) {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = row * dim; i < (row + 1) * dim; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    worst = Math.min(worst, dot / Math.sqrt(na * nb));
  }
  return worst;
}

function median(values) {
  return percentile(values, 50);
}

/** Each engine against our fp32 vectors, before any timing counts. */
function checkVectors(results, dim) {
  const ours = readVectors(results.find((r) => r.engine === 'ours').vectors);
  for (const r of results.filter((r) => r.engine !== 'ours')) {
    r.cosine = worstCosine(ours, readVectors(r.vectors), dim);
    // int8 is not the same arithmetic: it must stay within 0.99 (issue 7), the fp32 peers within 0.9999.
    const floor = r.int8 ? 0.99 : 0.9999;
    if (!(r.cosine >= floor)) throw new Error(`${r.engine}: worst cosine to ours ${r.cosine} < ${floor}; not timing the same work`);
  }
}

if (args.engine) {
  await runEngine(args.engine, args.dir, args.out);
} else {
  const name = args.model === 'all-MiniLM-L6-v2' ? 'minilm' : args.model;
  const checkpoint = await randomWeightCheckpoint(args.model, name);
  const onnxDir = onnxExportOf(checkpoint);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'be-peers-'));
  const tokens = (await import('../dist/index.js')).WordPieceTokenizer.fromModelDir(checkpoint);
  const tokenCount = sentences.reduce((sum, s) => sum + tokens.encode(s, undefined, { maxLength: maxSeqLen }).ids.length, 0);
  // peer: the transformers.js engine of the same precision, whose median pass the ratio divides.
  const engines = [
    { engine: 'ours', dir: checkpoint, peer: 'transformers.js' },
    { engine: 'transformers.js', dir: onnxDir, peer: 'transformers.js' },
    { engine: 'ours int8', dir: checkpoint, peer: 'transformers.js q8', int8: true },
    { engine: 'transformers.js q8', dir: onnxDir, peer: 'transformers.js q8', int8: true },
  ];
  const results = engines.map((e) => ({ ...e, passes: [], latencies: [], maxRssMiB: 0, vectors: path.join(work, `${e.engine}.f32`) }));
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const r of results) {
      const figures = JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--engine', r.engine, '--dir', r.dir, '--out', r.vectors, '--max-seq-len', String(maxSeqLen), '--passes', args.passes], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 }));
      r.passes.push(...figures.passes);
      r.latencies.push(...figures.latencies);
      r.maxRssMiB = Math.max(r.maxRssMiB, figures.maxRssMiB);
      console.error(`round ${round + 1}: ${r.engine} ${figures.passes.map((s) => (sentences.length / s).toFixed(0)).join(', ')} sentences/s`);
    }
  }
  const python = await pythonEager(checkpoint, work);
  results.push({ engine: 'Python eager torch', peer: 'transformers.js', latencies: [], ...python });
  checkVectors(results, readVectors(results[0].vectors).length / sentences.length);
  fs.rmSync(work, { recursive: true, force: true });
  for (const r of results) r.seconds = median(r.passes);
  const secondsOf = (engine) => results.find((r) => r.engine === engine).seconds;
  const lines = [
    `${args.model} shape (random weights), STS-B test: ${sentences.length} sentences, ${tokenCount} tokens, maxSeqLen ${maxSeqLen}, ` +
      `mean pooling + normalize, ${runDescription(Number(args.rounds) * Number(args.passes))}`,
    '',
    '| engine | sentences/s | tokens/s | vs transformers.js (same precision) | p50 one sentence | p99 one sentence | peak RSS | worst cosine to ours fp32 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of results) {
    const rate = sentences.length / r.seconds;
    const latency = (p) => (r.latencies.length ? `${percentile(r.latencies, p).toFixed(1)} ms` : 'n/a');
    lines.push(
      `| ${r.engine} | ${rate.toFixed(1)} | ${(tokenCount / r.seconds).toFixed(0)} | ${(secondsOf(r.peer) / r.seconds).toFixed(2)}× ${r.peer === 'transformers.js q8' ? 'q8' : 'fp32'} | ${latency(50)} | ${latency(99)} | ${r.maxRssMiB.toFixed(0)} MiB | ${r.cosine === undefined ? '—' : r.cosine.toFixed(6)} |`,
    );
  }
  const table = lines.join('\n');
  console.log(table);
  if (!args['print-only']) writeIntoBenchmarks(`peers:${args.model}`, table);
}
