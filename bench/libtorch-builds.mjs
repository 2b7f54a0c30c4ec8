#!/usr/bin/env node
// The addon built against Debian's libtorch 1.13 (build/) and against pip torch 2.x's libtorch
// (build-torch2/, `npm run build:native:pip-torch`), in the same run: fp32 and int8 sentences/s on
// STS-B, one-sentence p50, load time, RSS after load and peak RSS. One process per measurement
// (RSS is per process), builds and dtypes taking turns for --rounds rounds.
//   node bench/libtorch-builds.mjs [--model all-MiniLM-L6-v2] [--rounds 3]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describeHost } from './host.mjs';
import { randomWeightCheckpoint, repoRoot, sharedDir } from '../scripts/example-fixtures.mjs';

const { values: args } = parseArgs({
  options: { model: { type: 'string', default: 'all-MiniLM-L6-v2' }, rounds: { type: 'string', default: '3' } },
});
const modelDir = await randomWeightCheckpoint(args.model, args.model === 'all-MiniLM-L6-v2' ? 'minilm' : args.model);

const builds = [
  { name: "Debian libtorch-dev (build/)", addon: path.join(repoRoot, 'build', 'Release', 'bert_embed_native.node') },
  { name: 'pip torch (build-torch2/)', addon: path.join(repoRoot, 'build-torch2', 'Release', 'bert_embed_native.node') },
];
for (const build of builds) {
  if (!fs.existsSync(build.addon)) throw new Error(`${build.addon} is missing: run npm run build:native and npm run build:native:pip-torch`);
}

const child = `
  const fs = require('node:fs');
  const { Encoder, libtorchInfo } = require(${JSON.stringify(repoRoot)});
  const [modelDir, shared, dtype] = process.argv.slice(1);
  const sentences = fs.readFileSync(shared + '/data/stsbenchmark/sts-test.csv', 'utf8').split('\\n')
    .map((l) => l.split('\\t')).filter((c) => c.length >= 7).flatMap((c) => [c[5], c[6]]);
  const rssMiB = () => process.memoryUsage().rss / 1048576;
  (async () => {
    const loadStarted = performance.now();
    const encoder = await Encoder.load(modelDir, { maxSeqLen: 128, pooling: 'REDUCE_MEAN', layers: [-1], normalize: true, dtype });
    const loadMs = performance.now() - loadStarted;
    const loadRss = rssMiB();
    await encoder.encode(sentences.slice(0, 256));
    const started = performance.now();
    await encoder.encode(sentences);
    const seconds = (performance.now() - started) / 1000;
    const latencies = [];
    for (let i = 0; i < 100; i++) { const t = performance.now(); await encoder.encode([sentences[i]]); latencies.push(performance.now() - t); }
    latencies.sort((a, b) => a - b);
    await encoder.close();
    console.log(JSON.stringify({ version: libtorchInfo().version, rate: sentences.length / seconds, p50: latencies[50], loadMs, loadRss,
      peakRss: process.resourceUsage().maxRSS / 1024 }));
  })();`;

const rows = builds.flatMap((build) => ['float32', 'int8'].map((dtype) => ({ ...build, dtype, runs: [] })));
for (let round = 0; round < Number(args.rounds); round++) {
  for (const row of rows) {
    const out = JSON.parse(execFileSync(process.execPath, ['-e', child, modelDir, sharedDir, row.dtype], {
      encoding: 'utf8', env: { ...process.env, BERT_EMBED_ADDON: row.addon },
    }));
    row.runs.push(out);
    console.error(`round ${round + 1}: ${row.name} ${row.dtype}: torch ${out.version}, ${out.rate.toFixed(1)} sentences/s`);
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const of = (row, key) => median(row.runs.map((run) => run[key]));
console.log(`${args.model} shape, STS-B test (2758 sentences), maxSeqLen 128, ${os.availableParallelism()} cores, ${describeHost()}, ` +
  `median of ${args.rounds} rounds, ${new Date().toISOString().slice(0, 10)}\n`);
console.log('| build | libtorch | dtype | sentences/s | vs Debian build | p50 one sentence | load | RSS after load | peak RSS |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const row of rows) {
  const base = rows.find((r) => r.dtype === row.dtype);
  console.log(`| ${row.name} | ${row.runs[0].version} | ${row.dtype} | ${of(row, 'rate').toFixed(1)} | ${(of(row, 'rate') / of(base, 'rate')).toFixed(2)}× | ` +
    `${of(row, 'p50').toFixed(1)} ms | ${of(row, 'loadMs').toFixed(0)} ms | ${of(row, 'loadRss').toFixed(0)} MiB | ${of(row, 'peakRss').toFixed(0)} MiB |`);
}
