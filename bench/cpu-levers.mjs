#!/usr/bin/env node
// What each CPU optimization of issue 7 changed: the same STS-B encode with one lever switched
// off at a time through the switches kept for comparisons, one process per setting (OpenBLAS's
// and glibc's state is process-wide), the settings taking turns for --rounds rounds. int8 and
// bfloat16 (issue 13: oneDNN's bf16 kernels where the CPU has avx512_bf16 or AMX) have rows too.
// --sentences N encodes only the first N STS-B sentences (a quick check; 0: all of them).
//   node bench/cpu-levers.mjs [--model all-MiniLM-L6-v2] [--rounds 3] [--sentences 0]
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { randomWeightCheckpoint, repoRoot, sharedDir } from '../scripts/example-fixtures.mjs';
import { describeHost, isaClass } from './host.mjs';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'all-MiniLM-L6-v2' },
    rounds: { type: 'string', default: '3' },
    sentences: { type: 'string', default: '0' },
  },
});
const modelDir = await randomWeightCheckpoint(args.model, args.model === 'all-MiniLM-L6-v2' ? 'minilm' : args.model);

// Each row: what runs, and the environment that gets there.
const settings = [
  { name: 'all levers (default)', dtype: 'float32', env: {} },
  { name: 'libtorch caching allocator off', dtype: 'float32', env: { BERT_EMBED_CPU_ALLOCATOR: '0' } },
  { name: 'oneDNN via torch.mkldnn_linear, torch attention (no native/cpu kernels)', dtype: 'float32', env: { BERT_EMBED_CPU_KERNELS: '0' } },
  { name: 'torch.linear on OpenBLAS (no oneDNN)', dtype: 'float32', env: { BERT_EMBED_MKLDNN: '0' } },
  { name: 'int8, oneDNN VNNI kernels (default)', dtype: 'int8', env: {} },
  { name: 'int8, libtorch quantized::linear_dynamic', dtype: 'int8', env: { BERT_EMBED_CPU_KERNELS: '0' } },
  // Only where the CPU has bf16 instructions: elsewhere the engine refuses dtype 'bfloat16' (ERR_UNSUPPORTED).
  ...(isaClass().includes('+bf16')
    ? [
        { name: 'bfloat16, oneDNN bf16 linear kernels, the rest float32 (default)', dtype: 'bfloat16', env: {} },
        { name: "bfloat16, torch's bfloat16 ops throughout", dtype: 'bfloat16', env: { BERT_EMBED_CPU_KERNELS: '0' } },
      ]
    : []),
];

const child = `
  const fs = require('node:fs');
  const { Encoder, libtorchInfo } = require(${JSON.stringify(repoRoot)});
  const [modelDir, shared, dtype, limit] = process.argv.slice(1);
  const every = fs.readFileSync(shared + '/data/stsbenchmark/sts-test.csv', 'utf8').split('\\n')
    .map((l) => l.split('\\t')).filter((c) => c.length >= 7).flatMap((c) => [c[5], c[6]]);
  const sentences = Number(limit) > 0 ? every.slice(0, Number(limit)) : every;
  (async () => {
    const encoder = await Encoder.load(modelDir, { maxSeqLen: 128, pooling: 'REDUCE_MEAN', layers: [-1], normalize: true, dtype });
    await encoder.encode(sentences);
    const started = performance.now();
    await encoder.encode(sentences);
    const seconds = (performance.now() - started) / 1000;
    const latencies = [];
    for (let i = 0; i < 100; i++) { const t = performance.now(); await encoder.encode([sentences[i % sentences.length]]); latencies.push(performance.now() - t); }
    latencies.sort((a, b) => a - b);
    await encoder.close();
    // Which bfloat16 path this process took (BERT_EMBED_CPU_KERNELS=0 turns the kernels off).
    const bf16Kernels = dtype === 'bfloat16' && libtorchInfo().oneDnnBf16Linear;
    console.log(JSON.stringify({ rate: sentences.length / seconds, p50: latencies[50], maxRssMiB: process.resourceUsage().maxRSS / 1024, sentences: sentences.length, bf16Kernels }));
  })();`;

const results = settings.map((s) => ({ ...s, rates: [], p50s: [], rss: 0, sentences: 0, bf16Kernels: false }));
for (let round = 0; round < Number(args.rounds); round++) {
  for (const r of results) {
    const out = JSON.parse(execFileSync(process.execPath, ['-e', child, modelDir, sharedDir, r.dtype, args.sentences], { encoding: 'utf8', env: { ...process.env, ...r.env } }));
    r.rates.push(out.rate);
    r.sentences = out.sentences;
    r.bf16Kernels = out.bf16Kernels;
    r.p50s.push(out.p50);
    r.rss = Math.max(r.rss, out.maxRssMiB);
    console.error(`round ${round + 1}: ${r.name}: ${out.rate.toFixed(1)} sentences/s`);
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const base = median(results[0].rates);
console.log(`${args.model} shape, STS-B test (${results[0].sentences} sentences), maxSeqLen 128, ${os.availableParallelism()} cores (${describeHost()}), median of ${args.rounds} rounds, ${new Date().toISOString().slice(0, 10)}\n`);
console.log('| setting | switch | sentences/s | vs default fp32 | p50 one sentence | peak RSS |\n| --- | --- | --- | --- | --- | --- |');
for (const r of results) {
  const env = Object.entries(r.env).map(([k, v]) => `${k}=${v}`).join(' ') || '—';
  // A bfloat16 row that meant the kernels but did not get them (an addon without our oneDNN kernels) says so.
  const name = r.dtype === 'bfloat16' && !Object.keys(r.env).length && !r.bf16Kernels ? `${r.name} [no bf16 kernels in this addon: torch's bfloat16]` : r.name;
  console.log(`| ${name} | ${env} | ${median(r.rates).toFixed(1)} | ${(median(r.rates) / base).toFixed(2)}× | ${median(r.p50s).toFixed(1)} ms | ${r.rss.toFixed(0)} MiB |`);
}
