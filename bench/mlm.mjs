#!/usr/bin/env node
// Masked-LM scoring and fill-mask against the peers, on one random-weight bert-base-uncased-shaped
// BertForMaskedLM checkpoint (scripts/make-checkpoint.mjs with the head, .fixtures/bench/), in one run.
//
// Scoring: pseudo-log-likelihood, metric 'original' (one masked copy per token, every token but
// [CLS]/[SEP] scored), of a fixed, evenly spaced subset of the STS-B test sentences; tokens scored per
// second. Engines, each in its own process and kept open, the same thread count for all; they take
// turns over --rounds rounds, each round a 1/rounds share of the sentences (every rounds-th one), so
// that load from elsewhere on the shared host falls on all alike (the ratio of each round is shown):
//   - ours: encoder.score(texts, { metric: 'original' }) in one call (float32, dtype 'int8', and 'bfloat16'
//     where the CPU has bf16 instructions);
//   - Python naive (bench/mlm_peer.py --mode naive, .venv/bin/python: torch + transformers): per
//     sentence, all its masked copies in one BertForMaskedLM batch, full logits, log_softmax, pick;
//   - Python gather (--mode gather): awslabs/mlm-scoring's trick, copies of all sentences sorted by
//     length, 32 a batch, model.bert, the hidden states at the masked positions gathered, model.cls;
//   - transformers.js (onnxruntime-node) on an ONNX export of the same weights (scripts/export-onnx.py
//     --mlm): its fill-mask pipeline's tokenizer and model. The pipeline itself gives only the top-k,
//     so the copies go straight to its model: each sentence tokenized by pipe.tokenizer, the masked
//     copies built as id tensors (masking a word piece in the text would not give the same ids),
//     sorted by length, 32 a call to pipe.model, log-softmax of the logits at the mask in JS.
// Before any timing, every peer scores the check sentences and each token's log-probability must be
// within 1e-3 of ours (int8: reported, not required), or the run stops.
//
// Fill-mask: one text with one [MASK] (its middle whole word) per request, top 5: ours
// encoder.fillMask([text]) against transformers.js pipeline('fill-mask')(text), both with
// --concurrency requests in flight (a server's load) and one at a time. Both engines in one process,
// taking turns in FILL_SLICES slices of --fill-seconds / FILL_SLICES each, so that load from elsewhere
// on the shared host falls on both alike; the median slice counts. The top-5 ids and probabilities
// of a few texts are checked against ours first (ids identical, within 1e-4).
//
// The tables go to stdout and into BENCHMARKS.md between <!-- mlm --> and <!-- /mlm --> (unless
// --print-only).
//
//   npx tsc -p tsconfig.json && node bench/mlm.mjs [--sentences 40] [--rounds 4] [--fill-seconds 15] [--concurrency 16] [--threads N] [--print-only]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readStsPairs, repoRoot, sharedDir } from '../scripts/example-fixtures.mjs';
import { makeCheckpoint } from '../scripts/make-checkpoint.mjs';
import { writeIntoBenchmarks } from './peer-engines.mjs';
import { describeHost, isaClass } from './host.mjs';
import readline from 'node:readline';
import { startEngineProcess } from './engine-process.mjs';

const { values: args } = parseArgs({
  options: {
    sentences: { type: 'string', default: '40' },
    rounds: { type: 'string', default: '4' },
    'fill-seconds': { type: 'string', default: '15' },
    concurrency: { type: 'string', default: '16' },
    threads: { type: 'string', default: String(os.availableParallelism()) },
    'skip-int8': { type: 'boolean', default: false },
    'print-only': { type: 'boolean', default: false },
    // child process: one engine
    engine: { type: 'string' },
    input: { type: 'string' },
  },
});
const MAX_SEQ_LEN = 128;
const BATCH = 32;
const TOP_K = 5;
const CHECK_COUNT = 4;
const FILL_SLICES = 3;
const threads = Number(args.threads);
const benchDir = path.join(repoRoot, '.fixtures', 'bench');
const checkpoint = path.join(benchDir, 'mlm-bert-base-uncased');
const onnxDir = `${checkpoint}-onnx`;
const python = path.join(repoRoot, '.venv', 'bin', 'python');

/** The STS-B test sentences, both columns, in file order. */
function stsTestSentences() {
  return readStsPairs('test').flatMap((pair) => [pair.first, pair.second]);
}

/** `count` of `items`, evenly spaced. */
function evenlySpaced(items, count) {
  const step = items.length / count;
  return Array.from({ length: count }, (_, i) => items[Math.floor(i * step)]);
}

/** The middle whole word (letters only, between spaces) replaced by [MASK]; null when there is none. */
function maskMiddleWord(sentence) {
  const words = sentence.split(' ');
  const candidates = words.flatMap((word, i) => (/^[A-Za-z]+$/.test(word) ? [i] : []));
  if (candidates.length === 0) return null;
  words[candidates[Math.floor(candidates.length / 2)]] = '[MASK]';
  return words.join(' ');
}

/** The checkpoint (std 0.1: logits spread over a few nats, so a wrong target shows) and its ONNX export, written once. */
async function fixtures() {
  if (!fs.existsSync(path.join(checkpoint, 'model.safetensors'))) {
    console.error(`writing a random-weight bert-base-uncased-shaped BertForMaskedLM checkpoint to ${checkpoint}`);
    await makeCheckpoint({ configPath: path.join(sharedDir, 'models', 'bert-base-uncased', 'config.json'), outDir: checkpoint, seed: 31, std: 0.1, mlmHead: true });
  }
  if (!fs.existsSync(path.join(onnxDir, 'onnx', 'model.onnx'))) {
    console.error(`exporting it to ONNX in ${onnxDir}`);
    execFileSync('/usr/bin/python3', [path.join(repoRoot, 'scripts', 'export-onnx.py'), '--mlm', checkpoint, onnxDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
}

async function openTransformersJs() {
  const { pipeline, env, Tensor } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = path.dirname(onnxDir);
  const pipe = await pipeline('fill-mask', path.basename(onnxDir), { dtype: 'fp32', session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 } });
  return { pipe, Tensor };
}

async function openOurs(dtype = 'float32') {
  const { Encoder } = await import('../dist/index.js');
  return Encoder.load(checkpoint, { maxSeqLen: MAX_SEQ_LEN, dtype });
}

/** log p(target) at each copy's masked position, from transformers.js's model (see the heading). */
async function transformersJsScore({ pipe, Tensor }, texts) {
  const maskId = BigInt(pipe.tokenizer.mask_token_id);
  const sentences = texts.map((text) => Array.from(pipe.tokenizer(text, { truncation: true, max_length: MAX_SEQ_LEN }).input_ids.data));
  const copies = sentences.flatMap((ids, s) => ids.slice(1, -1).map((_, k) => ({ s, position: k + 1 })));
  copies.sort((a, b) => sentences[a.s].length - sentences[b.s].length);
  const results = sentences.map((ids) => new Array(ids.length - 2));
  for (let start = 0; start < copies.length; start += BATCH) {
    const chunk = copies.slice(start, start + BATCH);
    const length = Math.max(...chunk.map(({ s }) => sentences[s].length));
    const inputIds = new BigInt64Array(chunk.length * length);
    const attentionMask = new BigInt64Array(chunk.length * length);
    chunk.forEach(({ s, position }, row) => {
      const ids = sentences[s];
      inputIds.set(ids, row * length);
      attentionMask.fill(1n, row * length, row * length + ids.length);
      inputIds[row * length + position] = maskId;
    });
    const dims = [chunk.length, length];
    const { logits } = await pipe.model({
      input_ids: new Tensor('int64', inputIds, dims),
      attention_mask: new Tensor('int64', attentionMask, dims),
      token_type_ids: new Tensor('int64', new BigInt64Array(chunk.length * length), dims),
    });
    const vocab = logits.dims[2];
    const data = logits.data;
    chunk.forEach(({ s, position }, row) => {
      const from = (row * length + position) * vocab;
      let max = -Infinity;
      for (let v = from; v < from + vocab; v++) if (data[v] > max) max = data[v];
      let sum = 0;
      for (let v = from; v < from + vocab; v++) sum += Math.exp(data[v] - max);
      results[s][position - 1] = data[from + Number(sentences[s][position])] - max - Math.log(sum);
    });
  }
  return results;
}

/** Largest and mean |Δ| between two engines' log-probabilities of the check texts. */
function differences(ours, theirs, what) {
  let worst = 0;
  let sum = 0;
  let count = 0;
  ours.forEach((row, i) => {
    if (row.length !== theirs[i].length) throw new Error(`${what}: ${theirs[i].length} scored tokens in check text ${i} where ours has ${row.length}`);
    row.forEach((value, j) => {
      const difference = Math.abs(value - theirs[i][j]);
      worst = Math.max(worst, difference);
      sum += difference;
      count++;
    });
  });
  return { max: worst, mean: sum / count };
}

/** Top-k lists agree: ids identical (a swap only between probabilities within 1e-6), probabilities within 1e-4. */
function checkFillMask(ours, theirs) {
  ours.forEach((candidates, t) => {
    candidates.forEach((candidate, rank) => {
      const other = theirs[t][rank];
      const difference = Math.abs(candidate.score - other.score);
      if (difference > 1e-4 || (candidate.token !== other.token && difference > 1e-6)) {
        throw new Error(`fill-mask check text ${t} rank ${rank + 1}: ours ${candidate.token} (${candidate.score}), transformers.js ${other.token} (${other.score}): not timing`);
      }
    });
  });
}

/** Requests of `run(text)` cycling over `texts` for `seconds`, `concurrency` in flight; requests per second. */
async function requestsPerSecond(run, texts, seconds, concurrency) {
  let next = 0;
  let done = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await run(texts[next++ % texts.length]);
        done++;
      }
    }),
  );
  return { requests: done, seconds: (performance.now() - started) / 1000 };
}

/** A scoring engine in this process: `score(texts)` gives each text's log-probabilities, token by token. */
async function openScorer(engine) {
  if (engine === 'ours' || engine === 'ours int8' || engine === 'ours bf16') {
    const encoder = await openOurs({ ours: 'float32', 'ours int8': 'int8', 'ours bf16': 'bfloat16' }[engine]);
    return {
      threads: `${encoder.options.threads} intra-op, ${encoder.options.blasThreads} BLAS`,
      score: async (texts) => (await encoder.score(texts, { metric: 'original' })).map((score) => score.tokens.map((token) => token.logprob)),
      close: () => encoder.close(),
    };
  }
  if (engine === 'transformers.js') {
    const opened = await openTransformersJs();
    return { threads: `${threads} intra-op`, score: (texts) => transformersJsScore(opened, texts), close: () => opened.pipe.dispose() };
  }
  throw new Error(`unknown engine ${engine}`);
}

/**
 * One engine kept open in this process, answering one JSON line per JSON line on stdin:
 * {op: 'check', texts, logprobs} → differences to ours; {op: 'score', texts} → {seconds, scored};
 * {op: 'exit'} → {threads, maxRssMiB}. (bench/mlm_peer.py --serve speaks the same.)
 */
async function serveEngine(engine) {
  const scorer = await openScorer(engine);
  const reply = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const message = JSON.parse(line);
    if (message.op === 'check') {
      reply(differences(message.logprobs, await scorer.score(message.texts), engine));
    } else if (message.op === 'score') {
      const started = performance.now();
      const scores = await scorer.score(message.texts);
      reply({ seconds: (performance.now() - started) / 1000, scored: scores.reduce((sum, row) => sum + row.length, 0) });
    } else {
      await scorer.close();
      reply({ threads: scorer.threads, maxRssMiB: process.resourceUsage().maxRSS / 1024 });
      return;
    }
  }
}

/** The fill-mask comparison, in this process: figures as JSON on stdout. */
async function runFill(job) {
  const out = {};
  {
    // Both engines in this process, taking turns in slices, so that load from elsewhere on the
    // shared host falls on both alike; the median slice counts.
    const encoder = await openOurs();
    const { pipe } = await openTransformersJs();
    const runs = {
      ours: async (text) => (await encoder.fillMask([text], { topK: TOP_K }))[0][0],
      'transformers.js': (text) => pipe(text, { top_k: TOP_K }),
    };
    const theirs = [];
    for (const text of job.check.texts) theirs.push(await runs['transformers.js'](text));
    checkFillMask(job.check.candidates, theirs);
    for (const run of Object.values(runs)) for (const text of job.texts.slice(0, 8)) await run(text); // warm-up
    const slice = Number(args['fill-seconds']) / FILL_SLICES;
    for (const mode of ['concurrent', 'sequential']) {
      out[mode] = { ours: [], 'transformers.js': [] };
      for (let round = 0; round < FILL_SLICES; round++) {
        for (const [name, run] of Object.entries(runs)) {
          const { requests, seconds } = await requestsPerSecond(run, job.texts, slice, mode === 'concurrent' ? Number(args.concurrency) : 1);
          out[mode][name].push(requests / seconds);
        }
      }
    }
    await encoder.close();
    await pipe.dispose();
  }
  process.stdout.write(JSON.stringify(out));
}

/** A scoring engine in a process of its own, kept open: `request(message)` answers one JSON line. */
function startEngine(engine) {
  const command = engine.startsWith('Python')
    ? [python, [path.join(repoRoot, 'bench', 'mlm_peer.py'), '--mode', engine === 'Python naive' ? 'naive' : 'gather', '--model', checkpoint, '--threads', String(threads), '--max-length', String(MAX_SEQ_LEN), '--batch', String(BATCH)]]
    : [process.execPath, [fileURLToPath(import.meta.url), '--engine', engine, '--threads', String(threads)]];
  return startEngineProcess(engine, command[0], command[1]);
}

/** The fill-mask child: both engines in one process (see runFill). */
function fillChild(job, work) {
  const input = path.join(work, 'fill.json');
  fs.writeFileSync(input, JSON.stringify(job));
  const argv = [fileURLToPath(import.meta.url), '--engine', 'fill', '--input', input, '--threads', String(threads), '--fill-seconds', args['fill-seconds'], '--concurrency', args.concurrency];
  return JSON.parse(execFileSync(process.execPath, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
}

const ratio = (value) => `${value.toFixed(2)}×`;

const loadAverage = () => os.loadavg()[0].toFixed(2);

async function main() {
  await fixtures();
  const loadAtStart = loadAverage();
  const all = stsTestSentences();
  const texts = evenlySpaced(all, Number(args.sentences));
  const checkTexts = { texts: evenlySpaced(all.filter((s) => !texts.includes(s)), CHECK_COUNT) };
  const masked = all.map(maskMiddleWord).filter((text) => text !== null);
  const fillTexts = evenlySpaced(masked, 400);
  const fillCheck = { texts: evenlySpaced(masked, CHECK_COUNT + 1).slice(1) };

  // Our float32 answers on the check texts: what every peer is held to.
  const encoder = await openOurs();
  checkTexts.logprobs = (await encoder.score(checkTexts.texts, { metric: 'original' })).map((score) => score.tokens.map((token) => token.logprob));
  fillCheck.candidates = (await encoder.fillMask(fillCheck.texts, { topK: TOP_K })).map((masks) => masks[0]);
  const tokenCounts = encoder.tokenize(texts).map((t) => t.ids.length);
  await encoder.close();

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'be-mlm-'));
  // bf16 only where the CPU multiplies it (the engine refuses it elsewhere).
  const names = ['ours', ...(args['skip-int8'] ? [] : ['ours int8']), ...(isaClass().includes('+bf16') ? ['ours bf16'] : []), 'Python naive', 'Python gather', 'transformers.js'];
  const reducedPrecision = (name) => name === 'ours int8' || name === 'ours bf16';
  const engines = names.map(startEngine);
  const results = [];
  try {
    // Every engine's check (its warm-up too) before anything is timed.
    for (const engine of engines) {
      const check = await engine.request({ op: 'check', texts: checkTexts.texts, logprobs: checkTexts.logprobs });
      console.error(`${engine.engine}: check max |Δ logprob| ${check.max.toExponential(1)}, mean ${check.mean.toExponential(1)}`);
      if (!reducedPrecision(engine.engine) && !(check.max <= 1e-3)) throw new Error(`${engine.engine}: a log-probability differs from ours by ${check.max}: not timing`);
      results.push({ engine: engine.engine, check, rounds: [] });
    }
    // The engines take turns, a chunk of the sentences each per round.
    const rounds = Number(args.rounds);
    for (let round = 0; round < rounds; round++) {
      const chunk = texts.filter((_, i) => i % rounds === round);
      for (const [e, engine] of engines.entries()) {
        const figures = await engine.request({ op: 'score', texts: chunk });
        results[e].rounds.push(figures);
        console.error(`round ${round + 1}: ${engine.engine} ${figures.scored} tokens in ${figures.seconds.toFixed(1)} s, ${(figures.scored / figures.seconds).toFixed(1)} tokens/s (load ${loadAverage()})`);
      }
    }
    for (const [e, engine] of engines.entries()) Object.assign(results[e], await engine.request({ op: 'exit' }));
  } finally {
    for (const engine of engines) engine.kill();
  }
  const fill = fillChild({ texts: fillTexts, check: fillCheck }, work);
  for (const mode of ['concurrent', 'sequential']) {
    console.error(`fill-mask ${mode}: ours ${fill[mode].ours.map((r) => r.toFixed(1)).join(', ')}; transformers.js ${fill[mode]['transformers.js'].map((r) => r.toFixed(1)).join(', ')} requests/s`);
  }
  fs.rmSync(work, { recursive: true, force: true });
  const loadAtEnd = loadAverage();

  const date = new Date().toISOString().slice(0, 10);
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  for (const r of results) {
    r.scored = r.rounds.reduce((sum, round) => sum + round.scored, 0);
    r.seconds = r.rounds.reduce((sum, round) => sum + round.seconds, 0);
  }
  const rate = (r) => r.scored / r.seconds;
  const [ours] = results;
  const python = results.find((r) => r.engine === 'Python naive');
  const rounds = Number(args.rounds);
  const lines = [
    `bert-base-uncased shape (random weights, BertForMaskedLM head), metric 'original', ${texts.length} STS-B test sentences ` +
      `(${tokenCounts.reduce((a, b) => a + b, 0)} tokens with [CLS]/[SEP], ${ours.scored} scored), maxSeqLen ${MAX_SEQ_LEN}, ` +
      `${threads} threads for every engine, ${os.availableParallelism()} cores (${describeHost()}), ` +
      `each engine in its own process, the engines taking turns over ${rounds} rounds of 1/${rounds} of the sentences each, ${date}; ` +
      `${python.versions}; 1-minute load average ${loadAtStart} at the start, ${loadAtEnd} at the end (the host is shared)`,
    '',
    '| engine | tokens scored/s | ours ÷ engine | ours ÷ engine, per round | time | check: max \\|Δ logprob\\| to ours fp32 | threads | peak RSS |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of results) {
    const perRound = r.rounds.map((round, i) => ratio(ours.rounds[i].scored / ours.rounds[i].seconds / (round.scored / round.seconds))).join(', ');
    const check = reducedPrecision(r.engine) ? `${r.check.max.toFixed(2)} (mean ${r.check.mean.toFixed(2)}; ${r.engine.slice(5)} is not held to 1e-3)` : r.check.max.toExponential(1);
    lines.push(`| ${r.engine} | ${rate(r).toFixed(1)} | ${ratio(rate(ours) / rate(r))} | ${perRound} | ${r.seconds.toFixed(1)} s | ${check} | ${r.threads} | ${r.maxRssMiB.toFixed(0)} MiB |`);
  }
  lines.push(
    '',
    `fill-mask, one text with one [MASK] per request, top ${TOP_K}, ${fillTexts.length} STS-B test sentences cycled; ours and transformers.js ` +
      `in one process taking turns, ${FILL_SLICES} slices of ${(Number(args['fill-seconds']) / FILL_SLICES).toFixed(0)} s each per engine and mode, median slice; same run:`,
    '',
    '| requests | ours requests/s | transformers.js requests/s | ours ÷ transformers.js | per-slice ratios |',
    '| --- | --- | --- | --- | --- |',
    ...['concurrent', 'sequential'].map((mode) => {
      const [ours, theirs] = [fill[mode].ours, fill[mode]['transformers.js']];
      const slices = ours.map((rate, i) => ratio(rate / theirs[i])).join(', ');
      return `| ${mode === 'concurrent' ? `${args.concurrency} in flight` : 'one at a time'} | ${median(ours).toFixed(1)} | ${median(theirs).toFixed(1)} | ${ratio(median(ours) / median(theirs))} | ${slices} |`;
    }),
  );
  const table = lines.join('\n');
  console.log(table);
  if (!args['print-only']) writeIntoBenchmarks('mlm', table);
}

if (args.engine === 'fill') await runFill(JSON.parse(fs.readFileSync(args.input, 'utf8')));
else if (args.engine) await serveEngine(args.engine);
else await main();
