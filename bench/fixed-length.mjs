#!/usr/bin/env node
// bert-as-service's max_seq_len table with the peers beside us: fixed-length synthetic sentences
// (whole-word vocabulary entries, one token each, as `bert-embed bench` makes them) at each
// max_seq_len, through ours and transformers.js in fp32, and ours int8 against transformers.js q8,
// on the same random-weight checkpoint. Batches of 32 sentences, one call each, for every engine.
// Each engine runs in its own process; the median of --passes passes counts. The table goes to
// stdout and into BENCHMARKS.md between <!-- fixed-length:MODEL --> markers (unless --print-only).
//
//   node bench/fixed-length.mjs [--model all-MiniLM-L6-v2] [--max-seq-lens 20,40,80,160,320] [--sentences 256] [--passes 3]
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomWeightCheckpoint } from '../scripts/example-fixtures.mjs';
import { onnxExportOf, openEngine, percentile, runDescription, writeIntoBenchmarks } from './peer-engines.mjs';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'all-MiniLM-L6-v2' },
    'max-seq-lens': { type: 'string', default: '20,40,80,160,320' },
    sentences: { type: 'string', default: '256' },
    passes: { type: 'string', default: '3' },
    engine: { type: 'string' },
    dir: { type: 'string' },
    'print-only': { type: 'boolean', default: false },
  },
});
const BATCH = 32;
const count = Number(args.sentences);
const maxSeqLens = args['max-seq-lens'].split(',').map(Number);

/** One engine in this process: seconds per pass for each max_seq_len, as JSON on stdout. */
async function runEngine(engine, dir) {
  const { WordPieceTokenizer } = await import('../dist/index.js');
  const { syntheticSentences } = await import('../dist/cli/commands/bench.js');
  const tokenizer = WordPieceTokenizer.fromModelDir(dir);
  const seconds = {};
  for (const maxSeqLen of maxSeqLens) {
    const sentences = syntheticSentences(tokenizer, count, maxSeqLen);
    const opened = await openEngine(engine, dir, maxSeqLen);
    const pass = async () => {
      const started = performance.now();
      for (let start = 0; start < sentences.length; start += BATCH) await opened.encode(sentences.slice(start, start + BATCH));
      return (performance.now() - started) / 1000;
    };
    await pass(); // warm-up
    const passes = [];
    for (let i = 0; i < Number(args.passes); i++) passes.push(await pass());
    await opened.close();
    seconds[maxSeqLen] = percentile(passes, 50);
  }
  process.stdout.write(JSON.stringify(seconds));
}

if (args.engine) {
  await runEngine(args.engine, args.dir);
} else {
  const checkpoint = await randomWeightCheckpoint(args.model, args.model === 'all-MiniLM-L6-v2' ? 'minilm' : args.model);
  const onnxDir = onnxExportOf(checkpoint);
  const engines = { ours: checkpoint, 'transformers.js': onnxDir, 'ours int8': checkpoint, 'transformers.js q8': onnxDir };
  const seconds = {};
  for (const [engine, dir] of Object.entries(engines)) {
    const childArgs = [fileURLToPath(import.meta.url), '--engine', engine, '--dir', dir, '--max-seq-lens', args['max-seq-lens'], '--sentences', args.sentences, '--passes', args.passes];
    seconds[engine] = JSON.parse(execFileSync(process.execPath, childArgs, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
    console.error(`${engine}: ${maxSeqLens.map((n) => `${n} → ${(count / seconds[engine][n]).toFixed(0)}/s`).join(', ')}`);
  }
  const rate = (engine, n) => count / seconds[engine][n];
  const lines = [
    `${args.model} shape (random weights), ${count} sentences of exactly max_seq_len tokens, batches of ${BATCH}, mean pooling + normalize, ` +
      runDescription(args.passes),
    '',
    '| max_seq_len | ours fp32 sentences/s | transformers.js fp32 | ours ÷ transformers.js | ours int8 sentences/s | transformers.js q8 | ours int8 ÷ q8 |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const n of maxSeqLens) {
    lines.push(
      `| ${n} | ${rate('ours', n).toFixed(1)} | ${rate('transformers.js', n).toFixed(1)} | ${(rate('ours', n) / rate('transformers.js', n)).toFixed(2)}× | ` +
        `${rate('ours int8', n).toFixed(1)} | ${rate('transformers.js q8', n).toFixed(1)} | ${(rate('ours int8', n) / rate('transformers.js q8', n)).toFixed(2)}× |`,
    );
  }
  const table = lines.join('\n');
  console.log(table);
  if (!args['print-only']) writeIntoBenchmarks(`fixed-length:${args.model}`, table);
}
