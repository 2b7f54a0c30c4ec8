#!/usr/bin/env node
// Tokenizer throughput: ours (dist/tokenizer) against transformers.js on every STS-B sentence
// (train + dev + test, both columns), bert-base-uncased vocabulary, in one process.
//
//   npx tsc -p tsconfig.json && node bench/tokenizer.mjs [--rounds 9] [--model bert-base-uncased]
//
// Prints the figures; writes nothing. The shared folder is ../shared beside the repo, or BERT_EMBED_SHARED;
// TOKENIZER_DIST points at another build of dist/tokenizer/index.js.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { AutoTokenizer, env } from '@huggingface/transformers';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sharedDir = process.env.BERT_EMBED_SHARED ?? path.resolve(repoRoot, '..', 'shared');
const distEntry = process.env.TOKENIZER_DIST ?? path.join(repoRoot, 'dist', 'tokenizer', 'index.js');
const { WordPieceTokenizer } = await import(pathToFileURL(distEntry).href);

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '9' },
    model: { type: 'string', default: 'bert-base-uncased' },
  },
});
const rounds = Number(args.rounds);
const modelDir = path.join(sharedDir, 'models', args.model);

function readSentences() {
  const sentences = [];
  for (const split of ['train', 'dev', 'test']) {
    const text = readFileSync(path.join(sharedDir, 'data', 'stsbenchmark', `sts-${split}.csv`), 'utf8');
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      const fields = line.split('\t'); // no quote processing: STS-B is tab-separated with raw quotes
      sentences.push(fields[5], fields[6]);
    }
  }
  return sentences;
}

async function loadTransformersTokenizer() {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = path.dirname(modelDir) + path.sep;
  return AutoTokenizer.from_pretrained(path.basename(modelDir));
}

/** One pass over all sentences; returns seconds and the number of ids produced. */
function timePass(encode, sentences) {
  let tokens = 0;
  const start = process.hrtime.bigint();
  for (const sentence of sentences) tokens += encode(sentence).length;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { seconds, tokens };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const format = (n) => Math.round(n).toLocaleString('en-US');

const sentences = readSentences();
const transformers = await loadTransformersTokenizer();
const encodeTheirs = (sentence) => transformers.encode(sentence);

// Same ids or the comparison means nothing.
const oursForCheck = WordPieceTokenizer.fromModelDir(modelDir);
const differing = sentences.filter((sentence) => oursForCheck.encode(sentence).ids.join() !== encodeTheirs(sentence).join()).length;
if (differing > 0) throw new Error(`${differing} sentences get different ids from the two tokenizers`);

// Cold: a fresh tokenizer's first pass (our word cache empty), after JIT warm-up on another instance.
for (let i = 0; i < 2; i++) {
  timePass((sentence) => WordPieceTokenizer.fromModelDir(modelDir).encode(sentence).ids, sentences.slice(0, 200));
  timePass(encodeTheirs, sentences);
}
const freshOurs = WordPieceTokenizer.fromModelDir(modelDir);
const cold = timePass((sentence) => freshOurs.encode(sentence).ids, sentences);

const ours = WordPieceTokenizer.fromModelDir(modelDir);
const encodeOurs = (sentence) => ours.encode(sentence).ids;
for (let i = 0; i < 2; i++) {
  timePass(encodeOurs, sentences);
  timePass(encodeTheirs, sentences);
}
const results = { ours: [], theirs: [] };
let tokensPerPass = 0;
for (let round = 0; round < rounds; round++) {
  // Alternate so both see the same machine conditions.
  const a = timePass(encodeOurs, sentences);
  const b = timePass(encodeTheirs, sentences);
  if (a.tokens !== b.tokens) throw new Error(`token counts differ: ${a.tokens} vs ${b.tokens}`);
  tokensPerPass = a.tokens;
  results.ours.push(a.tokens / a.seconds);
  results.theirs.push(b.tokens / b.seconds);
}

const best = { ours: Math.max(...results.ours), theirs: Math.max(...results.theirs) };
const mid = { ours: median(results.ours), theirs: median(results.theirs) };
console.log(`tokenizer benchmark: ${args.model}, ${sentences.length} STS-B sentences, ${tokensPerPass} tokens a pass (ids identical)`);
console.log(`node ${process.version}, ${rounds} warm rounds (after 2 warm-up rounds each)`);
console.log(`  ours            best ${format(best.ours)} tokens/s   median ${format(mid.ours)} tokens/s`);
console.log(`  transformers.js best ${format(best.theirs)} tokens/s   median ${format(mid.theirs)} tokens/s`);
console.log(`  ratio (ours / transformers.js): best ${(best.ours / best.theirs).toFixed(2)}x   median ${(mid.ours / mid.theirs).toFixed(2)}x`);
console.log(`  ours, cold first pass of a fresh tokenizer: ${format(cold.tokens / cold.seconds)} tokens/s (${(cold.tokens / cold.seconds / mid.theirs).toFixed(2)}x transformers.js median)`);
