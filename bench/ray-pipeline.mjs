#!/usr/bin/env node
// The Ray Data pipeline (bert_embed.ray.BertEmbedder in map_batches) against in-process
// Encoder.encode of the same STS-B sentences, on a random-weight all-MiniLM-L6-v2-shaped checkpoint.
// Ray runs on a local cluster of two 1-CPU nodes: one actor (one thread), then two actors (one per
// node, one thread each); the in-process peers get one thread, then the default. Ray's times run from
// job submission to the last row, the actors' server start and model load included. One run each.
//
//   npm run build:ts && node bench/ray-pipeline.mjs [--rows 8000] [--batch-size 64] [--model DIR]
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { Encoder } from '../dist/index.js';
import { randomWeightCheckpoint, readStsPairs, repoRoot } from '../scripts/example-fixtures.mjs';
import { cpuFamily } from './host.mjs';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '8000' },
    'batch-size': { type: 'string', default: '64' },
    model: { type: 'string' },
  },
});
const python = process.env.BERT_EMBED_VENV_PYTHON ?? path.join(repoRoot, '.venv', 'bin', 'python');
const modelDir = args.model ?? (await randomWeightCheckpoint());
const batchSize = Number(args['batch-size']);
const corpus = ['train', 'dev', 'test'].flatMap((split) => readStsPairs(split).flatMap((pair) => [pair.first, pair.second])).filter((text) => text.trim() !== '');
const sentences = corpus.slice(0, Number(args.rows));

async function inProcess(threads) {
  const encoder = await Encoder.load(modelDir, threads === undefined ? {} : { threads });
  try {
    await encoder.encode(sentences.slice(0, batchSize)); // warm-up
    const started = performance.now();
    await encoder.encode(sentences);
    return { name: `in-process Encoder.encode, ${encoder.options.threads} thread(s)`, seconds: (performance.now() - started) / 1000 };
  } finally {
    await encoder.close();
  }
}

async function rayPipeline() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-bench-'));
  try {
    const config = path.join(dir, 'config.json');
    fs.writeFileSync(config, JSON.stringify({ model: modelDir, sentences, sizes: [1, 2], batch_size: batchSize }));
    const env = { ...process.env, BERT_EMBED_BIN: path.join(repoRoot, 'bin', 'bert-embed.js') };
    const { stdout } = await promisify(execFile)(python, [path.join(repoRoot, 'bench', 'ray-pipeline.py'), config], { env, cwd: dir, maxBuffer: 64 << 20 });
    return stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line))
      .map(({ actors, rows, seconds }) => {
        if (rows !== sentences.length) throw new Error(`the Ray job with ${actors} actor(s) gave ${rows} rows, expected ${sentences.length}`);
        return { name: `Ray Data, ${actors} actor(s) on 2 nodes x 1 CPU`, seconds };
      });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const results = [await inProcess(1), await inProcess(undefined), ...(await rayPipeline())];
console.log(`${cpuFamily()}; ${os.cpus().length} cores; ${sentences.length} STS-B sentences; batch_size ${batchSize}; ${path.basename(modelDir)}`);
for (const { name, seconds } of results) console.log(`${name.padEnd(48)} ${(sentences.length / seconds).toFixed(0).padStart(7)} rows/s  (${seconds.toFixed(2)} s)`);
