#!/usr/bin/env node
// Token classification (NER) against transformers.js, on one random-weight all-MiniLM-L6-v2-shaped
// BertForTokenClassification checkpoint (CoNLL's nine BIO labels; the recipe of the token-minilm test fixture,
// test/helpers/checkpoints.ts, with model_max_length 128), written once into .fixtures/bench/:
//   - ours: encoder.classifyTokens(texts, { aggregationStrategy }) in one call (float32);
//   - transformers.js (@huggingface/transformers, onnxruntime-node) on an ONNX export of the same weights
//     (scripts/export-onnx.py --token-classification: transformers' own BertForTokenClassification):
//     pipeline('token-classification')(batch, { aggregation_strategy }) over length-sorted batches of 32 (it pads a
//     call to its longest text). It has 'none' and 'simple' only, and no offsets.
// Workload: the STS-B test sentences (both columns), maxSeqLen 128; 'none' and 'simple', ignore_labels default
// (['O']). Tokens per second count every token the model runs, [CLS] and [SEP] included (our tokenizer, as
// transformers.js's gives the same ids). The same intra-op thread count for both (--threads, default the cores:
// ours `threads`, onnxruntime's intraOpNumThreads with one inter-op thread).
// Before anything is timed, both label the check sentences with 'none' and ignore_labels []: every token
// transformers.js reports must be ours at the same index with the same label and a score within 1e-4 (it drops
// [UNK] tokens, whose decoded word is empty; ours reports them as the pipeline does), or the run stops.
// Each engine runs in its own process, kept open; they take turns for --rounds rounds, each round a 1/rounds share
// of the sentences (every rounds-th one) after an untimed warm-up, so that load from elsewhere on the shared host
// falls on both alike (each round's ratio is shown).
//
// The table goes to stdout and into BENCHMARKS.md between <!-- token-classification --> and
// <!-- /token-classification --> (unless --print-only).
//
//   npx tsc -p tsconfig.json && node bench/token-classification.mjs [--sentences N] [--rounds 3] [--threads N] [--print-only]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readStsPairs, repoRoot, sharedDir } from '../scripts/example-fixtures.mjs';
import { makeCheckpoint } from '../scripts/make-checkpoint.mjs';
import { cpuFamily } from './host.mjs';
import { writeIntoBenchmarks } from './peer-engines.mjs';
import readline from 'node:readline';
import { startEngineProcess } from './engine-process.mjs';

const { values: args } = parseArgs({
  options: {
    sentences: { type: 'string', default: '0' },
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string', default: String(os.availableParallelism()) },
    'print-only': { type: 'boolean', default: false },
    // child process: one engine
    engine: { type: 'string' },
  },
});
const MAX_SEQ_LEN = 128;
const BATCH = 32;
const CHECK_COUNT = 64;
const STRATEGIES = ['none', 'simple'];
const LABELS = ['O', 'B-MISC', 'I-MISC', 'B-PER', 'I-PER', 'B-ORG', 'I-ORG', 'B-LOC', 'I-LOC'];
const threads = Number(args.threads);
const benchDir = path.join(repoRoot, '.fixtures', 'bench');
const checkpoint = path.join(benchDir, 'token-minilm');
const onnxDir = `${checkpoint}-onnx`;

/** `count` of `items`, evenly spaced (all of them for 0). */
function evenlySpaced(items, count) {
  if (!count || count >= items.length) return items;
  const step = items.length / count;
  return Array.from({ length: count }, (_, i) => items[Math.floor(i * step)]);
}

/** The checkpoint and its ONNX export, written once. */
async function fixtures() {
  if (!fs.existsSync(path.join(checkpoint, 'model.safetensors'))) {
    console.error(`writing a random-weight all-MiniLM-L6-v2-shaped BertForTokenClassification checkpoint to ${checkpoint}`);
    await makeCheckpoint({
      configPath: path.join(sharedDir, 'models', 'all-MiniLM-L6-v2', 'config.json'),
      outDir: checkpoint,
      seed: 42,
      std: 0.02,
      headStd: 0.4,
      tokenClassifier: { labels: LABELS },
      tokenizerConfig: { model_max_length: MAX_SEQ_LEN },
    });
  }
  if (!fs.existsSync(path.join(onnxDir, 'onnx', 'model.onnx'))) {
    console.error(`exporting it to ONNX in ${onnxDir}`);
    execFileSync('/usr/bin/python3', [path.join(repoRoot, 'scripts', 'export-onnx.py'), '--token-classification', checkpoint, onnxDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
}

/** One engine in this process: `run(texts, strategy)` labels every text (one list of entities per text). */
async function openEngine(engine) {
  if (engine === 'ours') {
    const { Encoder } = await import('../dist/index.js');
    const encoder = await Encoder.load(checkpoint, { maxSeqLen: MAX_SEQ_LEN, threads });
    return {
      threads: `${encoder.options.threads} intra-op, ${encoder.options.blasThreads} BLAS`,
      run: (texts, strategy, ignoreLabels) => encoder.classifyTokens(texts, { aggregationStrategy: strategy, ...(ignoreLabels ? { ignoreLabels } : {}) }),
      close: () => encoder.close(),
    };
  }
  if (engine === 'transformers.js') {
    const { pipeline, env } = await import('@huggingface/transformers');
    const { WordPieceTokenizer } = await import('../dist/index.js');
    env.allowRemoteModels = false;
    env.localModelPath = path.dirname(onnxDir);
    const pipe = await pipeline('token-classification', path.basename(onnxDir), { dtype: 'fp32', session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 } });
    const tokenizer = WordPieceTokenizer.fromModelDir(checkpoint);
    return {
      threads: `${threads} intra-op, 1 inter-op`,
      run: async (texts, strategy, ignoreLabels) => {
        // length-sorted batches of BATCH texts, answers put back in the texts' order
        const order = texts.map((text, i) => [tokenizer.encode(text, undefined, { maxLength: MAX_SEQ_LEN, splitPairs: false }).ids.length, i]).sort((a, b) => a[0] - b[0]);
        const answers = new Array(texts.length);
        for (let start = 0; start < order.length; start += BATCH) {
          const batch = order.slice(start, start + BATCH).map(([, i]) => i);
          const options = { aggregation_strategy: strategy, ...(ignoreLabels ? { ignore_labels: ignoreLabels } : {}) };
          const labelled = await pipe(batch.map((i) => texts[i]), options);
          batch.forEach((i, row) => {
            answers[i] = labelled[row];
          });
        }
        return answers;
      },
      close: () => pipe.dispose(),
    };
  }
  throw new Error(`unknown engine ${engine}`);
}

/**
 * One engine kept open in this process, answering one JSON line per JSON line on stdin:
 * {op: 'label', texts, strategy, ignoreLabels?} → the entities; {op: 'time', texts, strategy} → {seconds};
 * {op: 'exit'} → {threads, maxRssMiB}.
 */
async function serveEngine(engine) {
  const opened = await openEngine(engine);
  const reply = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const message = JSON.parse(line);
    if (message.op === 'label') {
      reply(await opened.run(message.texts, message.strategy, message.ignoreLabels));
    } else if (message.op === 'time') {
      const started = performance.now();
      await opened.run(message.texts, message.strategy);
      reply({ seconds: (performance.now() - started) / 1000 });
    } else {
      await opened.close();
      reply({ threads: opened.threads, maxRssMiB: process.resourceUsage().maxRSS / 1024 });
      return;
    }
  }
}

/** An engine in a process of its own, kept open: `request(message)` answers one JSON line. */
function startEngine(engine) {
  return startEngineProcess(engine, process.execPath, [fileURLToPath(import.meta.url), '--engine', engine, '--threads', String(threads)]);
}

/**
 * transformers.js's tokens against ours ('none', ignore_labels []): each at the same index with the same label and
 * a score within 1e-4. Throws (the run stops) when not.
 */
function checkTokens(ours, theirs) {
  let worst = 0;
  let compared = 0;
  let dropped = 0;
  theirs.forEach((entities, t) => {
    const byIndex = new Map(ours[t].map((entity) => [entity.index, entity]));
    for (const entity of entities) {
      const own = byIndex.get(entity.index);
      if (!own || own.entity !== entity.entity) {
        throw new Error(`check sentence ${t} token ${entity.index}: transformers.js ${entity.entity} (${entity.score}), ours ${own?.entity} (${own?.score}): not timing`);
      }
      worst = Math.max(worst, Math.abs(own.score - entity.score));
      compared++;
    }
    dropped += ours[t].length - entities.length;
  });
  if (!(worst <= 1e-4)) throw new Error(`a score differs from ours by ${worst}: not timing`);
  return { worst, compared, dropped };
}

const ratio = (value) => `${value.toFixed(2)}×`;
const loadAverage = () => os.loadavg()[0].toFixed(2);

async function main() {
  await fixtures();
  const loadAtStart = loadAverage();
  const all = readStsPairs('test').flatMap((pair) => [pair.first, pair.second]);
  const texts = evenlySpaced(all, Number(args.sentences));
  const checkTexts = evenlySpaced(all, CHECK_COUNT);
  const { WordPieceTokenizer } = await import('../dist/index.js');
  const tokenizer = WordPieceTokenizer.fromModelDir(checkpoint);
  const tokensOf = (list) => list.reduce((sum, text) => sum + tokenizer.encode(text, undefined, { maxLength: MAX_SEQ_LEN, splitPairs: false }).ids.length, 0);
  const rounds = Number(args.rounds);
  const chunks = Array.from({ length: rounds }, (_, round) => texts.filter((_, i) => i % rounds === round));

  const engines = ['ours', 'transformers.js'].map(startEngine);
  const results = engines.map((engine) => ({ engine: engine.engine, seconds: Object.fromEntries(STRATEGIES.map((s) => [s, []])) }));
  let check;
  try {
    const [ours, theirs] = await Promise.all(engines.map((engine) => engine.request({ op: 'label', texts: checkTexts, strategy: 'none', ignoreLabels: [] })));
    check = checkTokens(ours, theirs);
    console.error(`check: ${check.compared} tokens of ${checkTexts.length} sentences, same labels, max |Δ score| ${check.worst.toExponential(1)}; ${check.dropped} [UNK] tokens transformers.js leaves out`);
    for (const engine of engines) for (const strategy of STRATEGIES) await engine.request({ op: 'time', texts: chunks[0].slice(0, 4 * BATCH), strategy }); // warm-up
    for (let round = 0; round < rounds; round++) {
      for (const strategy of STRATEGIES) {
        for (const [e, engine] of engines.entries()) {
          const { seconds } = await engine.request({ op: 'time', texts: chunks[round], strategy });
          results[e].seconds[strategy].push(seconds);
          console.error(`round ${round + 1} ${strategy}: ${engine.engine} ${(tokensOf(chunks[round]) / seconds).toFixed(0)} tokens/s (load ${loadAverage()})`);
        }
      }
    }
    for (const [e, engine] of engines.entries()) Object.assign(results[e], await engine.request({ op: 'exit' }));
  } finally {
    for (const engine of engines) engine.kill();
  }
  const loadAtEnd = loadAverage();

  const tokens = tokensOf(texts);
  const [ours] = results;
  const sum = (values) => values.reduce((a, b) => a + b, 0);
  const date = new Date().toISOString().slice(0, 10);
  const versions = `transformers.js ${JSON.parse(fs.readFileSync(path.join(repoRoot, 'node_modules', '@huggingface', 'transformers', 'package.json'), 'utf8')).version}`;
  const lines = [
    `all-MiniLM-L6-v2 shape (random weights, BertForTokenClassification, 9 labels), ${texts.length} STS-B test sentences ` +
      `(${tokens} tokens with [CLS]/[SEP]), maxSeqLen ${MAX_SEQ_LEN}, ignore_labels ['O'], ${threads} threads for each engine, ` +
      `${os.availableParallelism()} cores (${os.cpus()[0].model.trim()}, \`${cpuFamily()}\`), each engine in its own process, ` +
      `taking turns over ${rounds} rounds of 1/${rounds} of the sentences each, ${date}; ${versions} (length-sorted calls of ${BATCH}); ` +
      `check: ${check.compared} tokens, same labels, max |Δ score| ${check.worst.toExponential(1)}; 1-minute load average ${loadAtStart} at the start, ${loadAtEnd} at the end (the host is shared)`,
    '',
    '| aggregation | engine | tokens/s | ours ÷ transformers.js | per round | time | threads | peak RSS |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const strategy of STRATEGIES) {
    const rate = (r) => tokens / sum(r.seconds[strategy]);
    const theirs = results[1];
    for (const r of results) {
      const perRound = r === ours ? r.seconds[strategy].map((s, i) => ratio(theirs.seconds[strategy][i] / s)).join(', ') : '';
      lines.push(`| ${strategy} | ${r.engine} | ${rate(r).toFixed(0)} | ${r === ours ? ratio(rate(ours) / rate(theirs)) : ''} | ${perRound} | ${sum(r.seconds[strategy]).toFixed(1)} s | ${r.threads} | ${r.maxRssMiB.toFixed(0)} MiB |`);
    }
  }
  const table = lines.join('\n');
  console.log(table);
  if (!args['print-only']) writeIntoBenchmarks('token-classification', table);
}

if (args.engine) await serveEngine(args.engine);
else await main();
