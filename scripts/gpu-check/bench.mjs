#!/usr/bin/env node
// The measuring half of scripts/gpu-check.sh, on a lent GPU: a random-weight checkpoint of the
// bert-base-uncased shape (its real config and vocabulary, seed 1, std 0.02; scripts/make-checkpoint.mjs),
// the STS-B test sentences (2,758), mean pooling of the last layer, L2-normalized, maxSeqLen 128,
// batches of 32 (our default maxBatchSize; sentence-transformers' default batch_size):
//   - ours (dist/, the addon named by BERT_EMBED_ADDON) in float32, float16 and bfloat16, one worker:
//     an untimed warm-up encode() of all sentences (its vectors are checked), --passes timed encode()s
//     of all sentences in one call (the engine batches them), then one sentence per call
//     --latency-samples times (p50/p90);
//   - the peer, scripts/gpu-check/st_peer.py on the python3 that holds torch: sentence-transformers
//     (transformers' AutoModel + mean pooling where it is missing; the JSON says which), the same
//     work in the same three dtypes on the same GPU, run after ours (never beside it);
//   - the checks: ours float32 against the peer's float32 (worst cosine >= 0.9999, no element more
//     than 1e-3 off: the same work, else its timing does not count), ours float16 and bfloat16
//     against ours float32 (cosine >= 0.999 and >= 0.99, as test/engine/dtypes.test.ts); ours
//     float16/bfloat16 against the peer's are reported, not enforced;
//   - two workers on one GPU (workers: 2, float16): all sentences as calls of 32 sentences made at
//     once, against one worker under the same load; both workers must have run batches and the
//     vectors must match one worker's (cosine >= 0.9999).
// Writes the figures to --out as JSON after every part (a run cut short keeps what it measured) and
// prints a short table last. Exit code 0 when every check passed, 1 otherwise.
// --device cpu (with few --sentences) runs the same code on the CPU, to prove the plumbing on a
// machine without a GPU: float16 is then reported as skipped (our float16 needs CUDA).
//
//   BERT_EMBED_ADDON=build-gpu/Release/bert_embed_native.node BERT_EMBED_SHARED=.gpu-check/shared \
//     node scripts/gpu-check/bench.mjs --out .gpu-check/run/bench.json [--device cuda] [--sentences 0 (all)]
//     [--passes 3] [--latency-samples 200] [--python python3] [--peer-timeout-s 240] [--skip-peer]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { compareVectors, percentile, readVectors, sentenceTransformersDirOf } from '../../bench/peer-engines.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: path.join(repoRoot, '.gpu-check', 'run', 'bench.json') },
    device: { type: 'string', default: 'cuda' },
    sentences: { type: 'string', default: '0' },
    passes: { type: 'string', default: '3' },
    'latency-samples': { type: 'string', default: '200' },
    python: { type: 'string', default: 'python3' },
    'peer-timeout-s': { type: 'string', default: '240' },
    'skip-peer': { type: 'boolean', default: false },
  },
});
const DEVICE = args.device;
const onCuda = DEVICE.startsWith('cuda');
const PASSES = Number(args.passes);
const LATENCY_SAMPLES = Number(args['latency-samples']);
const MAX_SEQ_LEN = 128;
const BATCH = 32;
const DTYPES = ['float32', 'float16', 'bfloat16'];
const FLOORS = { float16: 0.999, bfloat16: 0.99 };
const SAME_WORK = { worstCosine: 0.9999, maxAbsDiff: 1e-3 };
const sharedDir = process.env.BERT_EMBED_SHARED ?? path.resolve(repoRoot, '..', 'shared');
const work = path.join(path.dirname(args.out), 'bench-work');
fs.mkdirSync(work, { recursive: true });

const result = { device: DEVICE, startedAt: new Date().toISOString(), checks: {}, ours: {}, failures: [] };
const save = () => fs.writeFileSync(args.out, `${JSON.stringify(result, null, 1)}\n`);
const fail = (what) => {
  result.failures.push(what);
  console.error(`[gpu-bench] FAIL ${what}`);
};
const log = (line) => console.error(`[gpu-bench] ${line}`);

const median = (values) => percentile(values, 50);
const round = (x, digits = 1) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);

/** Compares two sets of rows against a floor; an informational check is reported but fails nothing. */
function check(name, a, b, dim, floor, { informational = false } = {}) {
  const compared = compareVectors(a, b, dim);
  const ok = compared.worstCosine >= floor.worstCosine && (floor.maxAbsDiff === undefined || compared.maxAbsDiff <= floor.maxAbsDiff);
  result.checks[name] = { worstCosine: compared.worstCosine, maxAbsDiff: compared.maxAbsDiff, floor, ok, ...(informational && { informational }) };
  if (!ok && !informational) fail(`${name}: worst cosine ${compared.worstCosine}, max |diff| ${compared.maxAbsDiff} (floor ${JSON.stringify(floor)})`);
  return ok;
}

// ---------------------------------------------------------------------------------------------------------------
const { Encoder, libtorchInfo } = await import(pathToFileURL(path.join(repoRoot, 'dist', 'index.js')).href);
const { makeCheckpoint } = await import(pathToFileURL(path.join(repoRoot, 'scripts', 'make-checkpoint.mjs')).href);
result.libtorch = libtorchInfo();
result.host = { cpu: os.cpus()[0]?.model.trim(), cores: os.availableParallelism(), node: process.version };
if (onCuda && result.libtorch.cudaDeviceCount === 0) {
  fail(`--device ${DEVICE}, but the addon sees no CUDA device (CUDA compiled in: ${result.libtorch.cudaCompiled})`);
  save();
  process.exit(1);
}

let sentences = fs
  .readFileSync(path.join(sharedDir, 'data', 'stsbenchmark', 'sts-test.csv'), 'utf8')
  .split('\n')
  .map((line) => line.split('\t'))
  .filter((columns) => columns.length >= 7)
  .flatMap((columns) => [columns[5], columns[6]]);
if (Number(args.sentences) > 0) sentences = sentences.slice(0, Number(args.sentences));
const sentencesFile = path.join(work, 'sentences.json');
fs.writeFileSync(sentencesFile, JSON.stringify(sentences));

const checkpoint = path.join(repoRoot, '.fixtures', 'gpu-check-bert-base');
if (!fs.existsSync(path.join(checkpoint, 'model.safetensors'))) {
  const t = performance.now();
  await makeCheckpoint({ configPath: path.join(sharedDir, 'models', 'bert-base-uncased', 'config.json'), outDir: checkpoint, seed: 1, std: 0.02 });
  log(`wrote the bert-base-shaped checkpoint in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}
const config = JSON.parse(fs.readFileSync(path.join(checkpoint, 'config.json'), 'utf8'));
result.model = {
  shape: 'bert-base-uncased (config and vocabulary from shared/models/bert-base-uncased), random weights: seed 1, std 0.02',
  hidden: config.hidden_size,
  layers: config.num_hidden_layers,
  maxSeqLen: MAX_SEQ_LEN,
  batch: BATCH,
  pooling: 'REDUCE_MEAN of the last layer, L2-normalized',
};
result.sentences = sentences.length;
const ENCODE = { device: DEVICE, pooling: 'REDUCE_MEAN', layers: [-1], normalize: true, maxSeqLen: MAX_SEQ_LEN, maxBatchSize: BATCH };
save();

// ---------------------------------------------------------------------------------------------------------------
// Ours, one worker, each dtype.
const oursVectors = {};
let dim = config.hidden_size;
for (const dtype of DTYPES) {
  if (!onCuda && dtype === 'float16') {
    result.ours[dtype] = { skipped: 'float16 needs a CUDA device' };
    continue;
  }
  const entry = (result.ours[dtype] = {});
  try {
    let t = performance.now();
    const encoder = await Encoder.load(checkpoint, { ...ENCODE, dtype });
    entry.loadSeconds = round((performance.now() - t) / 1000, 2);
    if (result.tokens === undefined) result.tokens = encoder.tokenize(sentences).reduce((sum, s) => sum + Math.min(s.ids.length, MAX_SEQ_LEN), 0);
    t = performance.now();
    const warm = await encoder.encode(sentences);
    entry.warmupSeconds = round((performance.now() - t) / 1000, 3);
    dim = warm.shape[1];
    oursVectors[dtype] = warm.data;
    const passes = [];
    for (let i = 0; i < PASSES; i++) {
      t = performance.now();
      await encoder.encode(sentences);
      passes.push((performance.now() - t) / 1000);
    }
    const latencies = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      t = performance.now();
      await encoder.encode([sentences[i % sentences.length]]);
      latencies.push(performance.now() - t);
    }
    const status = encoder.status();
    await encoder.close();
    Object.assign(entry, {
      passesSeconds: passes.map((s) => round(s, 4)),
      sentencesPerSecond: round(sentences.length / median(passes)),
      tokensPerSecond: round(result.tokens / median(passes)),
      p50Ms: round(median(latencies), 2),
      p90Ms: round(percentile(latencies, 90), 2),
      meanBatchSize: round(status.meanBatchSize, 1),
      paddingRatio: round(status.paddingRatio, 3),
    });
    log(`ours ${dtype}: ${entry.sentencesPerSecond} sentences/s, one sentence p50 ${entry.p50Ms} ms`);
  } catch (error) {
    entry.error = `${error.code ?? error.name}: ${error.message}`;
    fail(`ours ${dtype}: ${entry.error}`);
  }
  save();
}
for (const dtype of ['float16', 'bfloat16']) {
  if (oursVectors[dtype] && oursVectors.float32) check(`ours ${dtype} vs ours float32`, oursVectors.float32, oursVectors[dtype], dim, { worstCosine: FLOORS[dtype] });
}
save();

// ---------------------------------------------------------------------------------------------------------------
// The peer: sentence-transformers on the same device, after ours.
if (args['skip-peer']) {
  result.peer = { skipped: '--skip-peer' };
} else {
  const stDir = sentenceTransformersDirOf(checkpoint, MAX_SEQ_LEN);
  const peerDtypes = DTYPES.filter((d) => onCuda || d !== 'float16');
  const t = performance.now();
  const r = spawnSync(
    args.python,
    [path.join(repoRoot, 'scripts', 'gpu-check', 'st_peer.py'), '--model', stDir, '--sentences', sentencesFile, '--out-dir', work, '--device', DEVICE,
      '--dtypes', peerDtypes.join(','), '--passes', String(PASSES), '--latency-samples', String(LATENCY_SAMPLES), '--batch', String(BATCH),
      '--max-seq-len', String(MAX_SEQ_LEN)],
    { encoding: 'utf8', timeout: Number(args['peer-timeout-s']) * 1000, maxBuffer: 64 << 20 },
  );
  const seconds = round((performance.now() - t) / 1000, 1);
  if (r.status !== 0) {
    result.peer = { error: `st_peer.py ${r.error ? r.error.message : `exited ${r.status ?? r.signal}`}`, seconds, stderr: (r.stderr ?? '').slice(-3000) };
    fail(`peer: ${result.peer.error}`);
  } else {
    const peer = JSON.parse(r.stdout.trim().split('\n').pop());
    result.peer = { name: peer.peer, versions: peer.versions, attention: peer.attention, loadSeconds: round(peer.loadSeconds, 2), seconds, dtypes: {} };
    if (peer.maxMemoryAllocatedMiB !== undefined) result.peer.maxMemoryAllocatedMiB = round(peer.maxMemoryAllocatedMiB);
    for (const [dtype, e] of Object.entries(peer.dtypes)) {
      if (e.error) {
        result.peer.dtypes[dtype] = { error: e.error };
        fail(`peer ${dtype}: ${e.error}`);
        continue;
      }
      result.peer.dtypes[dtype] = {
        passesSeconds: e.passes.map((s) => round(s, 4)),
        sentencesPerSecond: round(sentences.length / median(e.passes)),
        p50Ms: round(median(e.latenciesMs), 2),
        p90Ms: round(percentile(e.latenciesMs, 90), 2),
      };
      const vectorsFile = path.join(work, `st-${dtype}.f32`);
      const theirs = readVectors(vectorsFile);
      if (oursVectors[dtype]) {
        // float32 must be the same work; two reduced-precision runs are only reported side by side (each is
        // held to its floor against float32 above, not to the other's rounding).
        if (dtype === 'float32') check('ours float32 vs peer float32', oursVectors[dtype], theirs, dim, SAME_WORK);
        else check(`ours ${dtype} vs peer ${dtype}`, oursVectors[dtype], theirs, dim, { worstCosine: FLOORS[dtype] }, { informational: true });
      }
      if (dtype === 'float32' && oursVectors[dtype] && !result.checks['ours float32 vs peer float32'].ok) {
        result.peer.dtypes[dtype].note = 'not the same vectors as ours: its timing does not compare';
      }
    }
  }
  save();
}

// ---------------------------------------------------------------------------------------------------------------
// Two workers on one device, against one, under the same load: every call of 32 sentences made at once.
{
  const dtype = onCuda ? 'float16' : 'float32';
  const entry = (result.twoWorkers = { dtype, device: DEVICE, calls: Math.ceil(sentences.length / BATCH), sentencesPerCall: BATCH });
  const chunks = [];
  for (let i = 0; i < sentences.length; i += BATCH) chunks.push(sentences.slice(i, i + BATCH));
  const runWith = async (workers) => {
    const encoder = await Encoder.load(checkpoint, { ...ENCODE, dtype, workers });
    try {
      const once = async () => {
        const t = performance.now();
        const parts = await Promise.all(chunks.map((chunk) => encoder.encode(chunk)));
        return { seconds: (performance.now() - t) / 1000, parts };
      };
      const { parts } = await once(); // warm-up (every worker's first batches), and the vectors
      const passes = [];
      for (let i = 0; i < PASSES; i++) passes.push((await once()).seconds);
      const data = new Float32Array(sentences.length * dim);
      parts.forEach((part, i) => data.set(part.data, i * BATCH * dim));
      const status = encoder.status();
      return {
        devices: status.devices,
        sentencesPerSecond: round(sentences.length / median(passes)),
        passesSeconds: passes.map((s) => round(s, 4)),
        perWorker: status.workers.map((w) => ({ device: w.device, batches: w.batches, sentences: w.sentences, busyMs: round(w.busyMs) })),
        data,
      };
    } finally {
      await encoder.close();
    }
  };
  try {
    const one = await runWith(1);
    const two = await runWith(2);
    entry.oneWorker = { ...one, data: undefined };
    entry.twoWorkers = { ...two, data: undefined };
    entry.speedup = round(two.sentencesPerSecond / one.sentencesPerSecond, 2);
    entry.bothWorkersRan = two.perWorker.length === 2 && two.perWorker.every((w) => w.batches > 0);
    entry.sameDevice = new Set(two.devices).size === 1;
    if (!entry.bothWorkersRan) fail(`two workers: a worker ran no batch (${JSON.stringify(two.perWorker)})`);
    check('two workers vs one worker', one.data, two.data, dim, { worstCosine: 0.9999 });
    log(`two workers (${dtype}): ${two.sentencesPerSecond} sentences/s against ${one.sentencesPerSecond} with one (x${entry.speedup})`);
  } catch (error) {
    entry.error = `${error.code ?? error.name}: ${error.message}`;
    fail(`two workers: ${entry.error}`);
  }
  save();
}

result.seconds = round((Date.now() - Date.parse(result.startedAt)) / 1000, 1);
result.ok = result.failures.length === 0;
save();

// The table, last (the device tool's reply carries the end of the output).
const rows = [['engine', 'dtype', 'sentences/s', 'p50 ms (1 sentence)']];
for (const dtype of DTYPES) {
  const o = result.ours[dtype];
  if (o) rows.push(['ours', dtype, o.sentencesPerSecond ?? o.skipped ?? o.error, o.p50Ms ?? '']);
  const p = result.peer?.dtypes?.[dtype];
  if (p) rows.push([result.peer.name.split(' (')[0], dtype, p.sentencesPerSecond ?? p.error, p.p50Ms ?? '']);
}
const tw = result.twoWorkers;
if (tw?.twoWorkers) rows.push([`ours, 1 → 2 workers`, tw.dtype, `${tw.oneWorker.sentencesPerSecond} → ${tw.twoWorkers.sentencesPerSecond}`, `x${tw.speedup}`]);
console.log(`\n${result.sentences} STS-B sentences, bert-base shape, ${DEVICE}, batch ${BATCH}, maxSeqLen ${MAX_SEQ_LEN}:`);
for (const row of rows) console.log(row.map((c, i) => String(c).padEnd([26, 10, 24, 10][i])).join(' '));
console.log(result.ok ? 'bench: every check passed' : `bench: ${result.failures.length} check(s) failed:\n  ${result.failures.join('\n  ')}`);
process.exit(result.ok ? 0 : 1);
