#!/usr/bin/env node
// Sweeps intra-op (OpenMP) threads × OpenBLAS threads for one model on batches of STS-B sentences,
// with the linear layers on oneDNN (the default where libtorch has it) and on libtorch's BLAS path
// (BERT_EMBED_MKLDNN=0), one process per setting (OpenBLAS's pool is process-wide); prints
// sentences/s for each and the ratio to the best BLAS-path setting.
//   node bench/cpu-threads.mjs [MODEL_DIR]
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomWeightCheckpoint, sharedDir } from '../scripts/example-fixtures.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const modelDir = process.argv[2] ?? (await randomWeightCheckpoint());
const cores = os.availableParallelism();

const child = `
  const fs = require('node:fs');
  const { Encoder } = require(${JSON.stringify(root)});
  const [modelDir, shared, threads, blasThreads] = process.argv.slice(1);
  const sentences = fs.readFileSync(shared + '/data/stsbenchmark/sts-test.csv', 'utf8').split('\\n')
    .map((l) => l.split('\\t')).filter((c) => c.length >= 7).flatMap((c) => [c[5], c[6]]).slice(0, 640);
  (async () => {
    const encoder = await Encoder.load(modelDir, { threads: +threads, blasThreads: +blasThreads, maxSeqLen: 128, maxBatchSize: 32 });
    await encoder.encode(sentences.slice(0, 64));
    const started = performance.now();
    await encoder.encode(sentences);
    console.log(sentences.length / ((performance.now() - started) / 1000));
    await encoder.close();
  })();`;

const shared = sharedDir;
const rows = [];
for (const linear of ['oneDNN', 'BLAS']) {
  for (let threads = 1; threads <= cores; threads++) {
    for (let blasThreads = 1; blasThreads <= cores; blasThreads++) {
      const env = { ...process.env, BERT_EMBED_MKLDNN: linear === 'oneDNN' ? '1' : '0' };
      const rate = Number(execFileSync(process.execPath, ['-e', child, modelDir, shared, threads, blasThreads], { encoding: 'utf8', env }));
      rows.push({ linear, threads, blasThreads, rate });
      console.error(`${linear} ${threads}/${blasThreads}: ${rate.toFixed(1)}`);
    }
  }
}
const bestBlas = Math.max(...rows.filter((r) => r.linear === 'BLAS').map((r) => r.rate));
console.log(`| linear layers | intra-op threads | OpenBLAS threads | sentences/s | vs best BLAS setting |\n| --- | --- | --- | --- | --- |`);
for (const r of rows) console.log(`| ${r.linear} | ${r.threads} | ${r.blasThreads} | ${r.rate.toFixed(1)} | ${(r.rate / bestBlas).toFixed(2)}× |`);
