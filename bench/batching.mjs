#!/usr/bin/env node
// Batching strategies on the STS-B test sentences, one run, all-MiniLM-L6-v2 shape (random weights):
//   length  - the scheduler as shipped: sentences of similar length batched together, each batch
//             padded to its own longest sentence;
//   arrival - the same scheduler cutting batches strictly in arrival order (padded to each batch's longest);
//   fixed   - bert-as-service: arrival order, every batch padded to maxSeqLen;
// each with 1 and 2 workers. Every mode gets the whole corpus as one encode call (no client batching).
//
//   npm run build:ts && node bench/batching.mjs [--max-seq-len 64] [--sentences 2758] [--rounds 1]
//
// Prints a Markdown table; ratios are against bert-as-service style (fixed, 1 worker) measured in
// the same run. The vectors of every run are checked against the first run's (padding must not change them).
import os from 'node:os';
import { parseArgs } from 'node:util';
import { openEncoder } from '../dist/encoder.js';
import { pooledHead } from '../dist/tasks/embed/pooled-head.js';
import { BatchScheduler } from '../dist/engine/batch-scheduler.js';
import { randomWeightCheckpoint, readStsPairs } from '../scripts/example-fixtures.mjs';

const { values: args } = parseArgs({
  options: {
    'max-seq-len': { type: 'string', default: '64' },
    sentences: { type: 'string', default: '2758' },
    rounds: { type: 'string', default: '1' },
    model: { type: 'string' },
  },
});
const maxSeqLen = Number(args['max-seq-len']);
const rounds = Number(args.rounds);
const modelDir = args.model ?? (await randomWeightCheckpoint());
const sentences = readStsPairs('test')
  .flatMap((pair) => [pair.first, pair.second])
  .slice(0, Number(args.sentences));

/** A replica whose batches are padded to maxSeqLen before they run, as bert-as-service pads. */
function padToMaxSeqLen(replica, padId) {
  return {
    device: replica.device,
    encode(batch) {
      const ids = new Int32Array(batch.batchSize * maxSeqLen).fill(padId);
      const typeIds = new Int32Array(batch.batchSize * maxSeqLen);
      for (let row = 0; row < batch.batchSize; row++) {
        ids.set(batch.ids.subarray(row * batch.seqLen, (row + 1) * batch.seqLen), row * maxSeqLen);
        typeIds.set(batch.typeIds.subarray(row * batch.seqLen, (row + 1) * batch.seqLen), row * maxSeqLen);
      }
      return replica.encode({ ...batch, ids, typeIds, seqLen: maxSeqLen });
    },
  };
}

/** Runs one mode on an encoder: the shipped encode() for 'length', a scheduler built the same way otherwise. */
async function runMode(encoder, mode) {
  const internals = replicasOf.get(encoder);
  if (mode === 'length') {
    const result = await encoder.encode(sentences);
    return { data: result.data, statistics: encoder.status() };
  }
  const { options, tokenizer } = encoder;
  const replicas = mode === 'fixed' ? internals.map((r) => padToMaxSeqLen(r, tokenizer.padId)) : internals;
  const scheduler = new BatchScheduler(
    replicas,
    { ...options, tokenizeWindow: 4096, order: 'arrival' },
    tokenizer.padId,
  );
  const data = await scheduler.submit({
    count: sentences.length,
    tokenize: (start, end) => sentences.slice(start, end).map((text) => tokenizer.encode(text, undefined, { maxLength: maxSeqLen })),
    head: pooledHead(encoder, encoder.options),
    rowWidth: encoder.dimension,
  });
  const statistics = scheduler.statistics.snapshot();
  // The native batches were padded to maxSeqLen behind the scheduler's back: count that padding.
  if (mode === 'fixed') statistics.paddingRatio = 1 - statistics.tokens / (sentences.length * maxSeqLen);
  return { data, statistics };
}

const replicasOf = new WeakMap();

function maxDifference(a, b) {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

const modes = ['length', 'arrival', 'fixed'];
const results = [];
let reference;
for (const workers of [1, 2]) {
  // The internal factory hands over each replica, so the other modes can run their own scheduler on them.
  const replicas = [];
  const encoder = await openEncoder(modelDir, { maxSeqLen, workers, maxBatchSize: 32 }, (replica) => {
    replicas.push(replica);
    return replica.encode;
  });
  replicasOf.set(encoder, replicas);
  await encoder.encode(sentences.slice(0, 64)); // warm-up: first forward passes are slower
  for (const mode of modes) {
    let best = Infinity;
    let statistics;
    for (let round = 0; round < rounds; round++) {
      const before = encoder.status();
      const started = performance.now();
      const run = await runMode(encoder, mode);
      best = Math.min(best, (performance.now() - started) / 1000);
      reference ??= run.data;
      const difference = maxDifference(run.data, reference);
      if (difference > 1e-4) throw new Error(`${mode} with ${workers} workers: vectors differ from the first mode's by ${difference}`);
      statistics = run.statistics;
      if (mode === 'length') {
        // encode() statistics are cumulative over the encoder's life: take this round's share.
        const tokens = statistics.tokens - before.tokens;
        const paddedTokens = statistics.paddedTokens - before.paddedTokens;
        statistics = { batches: statistics.batches - before.batches, tokens, paddingRatio: 1 - tokens / paddedTokens };
      }
    }
    results.push({ mode, workers, seconds: best, statistics });
    console.error(`${mode}, ${workers} worker(s): ${(sentences.length / best).toFixed(1)} sentences/s`);
  }
  await encoder.close();
}

const baseline = results.find((r) => r.mode === 'fixed' && r.workers === 1);
const realTokens = baseline.statistics.tokens;
console.log(`STS-B test, ${sentences.length} sentences (${realTokens} tokens), maxSeqLen ${maxSeqLen}, maxBatchSize 32, ` +
  `${os.availableParallelism()} cores, ${new Date().toISOString().slice(0, 10)}, best of ${rounds}\n`);
console.log('| batching | workers | sentences/s | tokens/s | padding | batches | vs bert-as-service style |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of results) {
  const rate = sentences.length / r.seconds;
  console.log(
    `| ${r.mode} | ${r.workers} | ${rate.toFixed(1)} | ${(realTokens / r.seconds).toFixed(0)} | ` +
      `${(100 * r.statistics.paddingRatio).toFixed(1)}% | ${r.statistics.batches} | ${(baseline.seconds / r.seconds).toFixed(2)}× |`,
  );
}
