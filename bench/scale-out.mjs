#!/usr/bin/env node
// Scale-out overheads, on one random-weight all-MiniLM-L6-v2-shaped checkpoint (scripts/example-fixtures.mjs) and the
// STS-B sentences (train, dev and test, both columns; --rows of them), max_seq_len 128, each figure a whole process
// (or processes) timed from spawn to exit:
//   - in-process: `bert-embed encode FILE -o out.npy --threads T` (one Encoder, the CLI's streaming);
//   - queue, one worker: `bert-embed queue work --exit-when-drained --threads T` on a run added beforehand
//     (`queue add`, shard size --shard-size), then `queue collect -o out.npy`; a redis-server of its own on loopback.
//     The worker alone, and add + work + collect end to end, against in-process;
//   - queue, two workers on this machine, --threads T/2 each, started together (until both exit);
//   - Ray Data: map_batches with bert_embed.ray.BertEmbedder (batch_size 64) on a local cluster of two 1-CPU nodes
//     (bench/scale_out_ray.py, loopback only), one actor then two, each timed from submission to the last row
//     materialized (the actors' server start and model load included; the cluster's own start not); every row must
//     come back. Needs `ray[data]` in .venv (npm run setup).
// The collected vectors must equal in-process ones (max |Δ| ≤ 1e-5 × norm) before any figure counts. Variants take
// turns for --rounds rounds; the median counts (the host is shared and noisy).
//
// The table goes to stdout and into BENCHMARKS.md between <!-- scale-out --> and <!-- /scale-out --> (unless
// --print-only).
//
//   npx tsc -p tsconfig.json && node bench/scale-out.mjs [--rows 17000] [--shard-size 500] [--rounds 3] [--threads N] [--print-only]
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { randomWeightCheckpoint, readStsPairs, repoRoot } from '../scripts/example-fixtures.mjs';
import { describeHost } from './host.mjs';
import { writeIntoBenchmarks } from './peer-engines.mjs';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '17000' },
    'shard-size': { type: 'string', default: '500' },
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string', default: String(os.availableParallelism()) },
    'print-only': { type: 'boolean', default: false },
  },
});
const BIN = path.join(repoRoot, 'bin', 'bert-embed.js');
const MAX_SEQ_LEN = '128';
const threads = Number(args.threads);

function run(command, commandArgs) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(commandArgs[0] ?? command)} ${commandArgs.slice(1, 3).join(' ')} exited ${code}: ${stderr}`))));
  });
}

async function timed(work) {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

const cli = (...cliArgs) => run(process.execPath, [BIN, ...cliArgs]);

async function startRedis() {
  const port = await new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = server.address();
      server.close(() => resolve(free));
    });
  });
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let tries = 0; ; tries++) {
    const up = await new Promise((resolve) => net.connect(port, '127.0.0.1').once('connect', function () { this.destroy(); resolve(true); }).once('error', () => resolve(false)));
    if (up) break;
    if (tries > 200) throw new Error('redis-server did not start');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') };
}

function npyData(file) {
  const bytes = fs.readFileSync(file);
  const start = 10 + bytes.readUInt16LE(8);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + bytes.length));
}

function checkSame(file, reference, width) {
  const actual = npyData(file);
  if (actual.length !== reference.length) throw new Error(`${file}: ${actual.length / width} rows, expected ${reference.length / width}`);
  for (let row = 0; row < reference.length; row += width) {
    let norm = 0;
    let worst = 0;
    for (let i = row; i < row + width; i++) {
      norm += reference[i] ** 2;
      worst = Math.max(worst, Math.abs(actual[i] - reference[i]));
    }
    if (worst > 1e-5 * Math.sqrt(norm)) throw new Error(`${file}: row ${row / width} differs from in-process by ${worst}`);
  }
}

/** Ray Data's seconds per pool size (one and two actors, --rounds times each), from one local two-node cluster. */
async function rayPipeline(model, sentences, rounds) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'be-scale-out-ray-'));
  try {
    const config = path.join(dir, 'config.json');
    const sizes = Array.from({ length: rounds }, () => [1, 2]).flat();
    fs.writeFileSync(config, JSON.stringify({ model, sentences, sizes, batch_size: 64, max_seq_len: Number(MAX_SEQ_LEN) }));
    const python = path.join(repoRoot, '.venv', 'bin', 'python');
    const env = { ...process.env, BERT_EMBED_BIN: BIN };
    const { stdout } = await promisify(execFile)(python, [path.join(repoRoot, 'bench', 'scale_out_ray.py'), config], { env, cwd: dir, maxBuffer: 64 << 20 });
    const seconds = { 1: [], 2: [] };
    for (const line of stdout.split('\n').filter((text) => text.startsWith('{'))) {
      const { actors, rows, seconds: taken } = JSON.parse(line);
      if (rows !== sentences.length) throw new Error(`the Ray job with ${actors} actor(s) gave ${rows} rows, expected ${sentences.length}`);
      seconds[actors].push(taken);
    }
    return seconds;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

async function main() {
  const model = await randomWeightCheckpoint();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'be-scale-out-'));
  const corpus = path.join(dir, 'corpus.txt');
  const sentences = ['train', 'dev', 'test'].flatMap((split) => readStsPairs(split).flatMap((pair) => [pair.first, pair.second])).slice(0, Number(args.rows));
  fs.writeFileSync(corpus, `${sentences.join('\n')}\n`);
  const redis = await startRedis();
  const times = { inProcess: [], add: [], worker: [], collect: [], twoWorkers: [] };
  try {
    const reference = path.join(dir, 'in-process.npy');
    for (let round = 0; round < Number(args.rounds); round++) {
      times.inProcess.push(await timed(() => cli('encode', '-q', '-m', model, '--max-seq-len', MAX_SEQ_LEN, '--threads', String(threads), corpus, '-o', reference)));
      const expected = npyData(reference);
      for (const workers of [1, 2]) {
        const queue = ['--redis', redis.url, '--queue', `bench-${round}-${workers}`];
        const run = ['--run', 'corpus'];
        const out = path.join(dir, `out-${round}-${workers}`);
        const add = await timed(() => cli('queue', 'add', ...queue, ...run, '--out', out, '-m', model, '--max-seq-len', MAX_SEQ_LEN, '--shard-size', args['shard-size'], corpus));
        const perWorker = workers === 1 ? threads : Math.max(1, Math.floor(threads / 2));
        const work = await timed(() => Promise.all(Array.from({ length: workers }, () => cli('queue', 'work', '-q', ...queue, '-m', model, '--threads', String(perWorker), '--exit-when-drained'))));
        const collected = path.join(dir, `collected-${round}-${workers}.npy`);
        const collect = await timed(() => cli('queue', 'collect', ...queue, ...run, '-o', collected));
        checkSame(collected, expected, 384);
        if (workers === 1) {
          times.add.push(add);
          times.worker.push(work);
          times.collect.push(collect);
        } else times.twoWorkers.push(work);
        fs.rmSync(out, { recursive: true, force: true });
      }
      console.error(`round ${round + 1}: in-process ${times.inProcess.at(-1).toFixed(2)} s, one worker ${times.worker.at(-1).toFixed(2)} s, two workers ${times.twoWorkers.at(-1).toFixed(2)} s`);
    }
  } finally {
    redis.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const ray = await rayPipeline(model, sentences, Number(args.rounds));
  const rows = sentences.length;
  const inProcess = median(times.inProcess);
  // Each round's time over the same round's in-process time, then the median: the host's speed drifts between rounds.
  const ratio = (seconds) => median(seconds.map((taken, round) => taken / times.inProcess[round % times.inProcess.length]));
  const line = (name, seconds, note) => `| ${name} | ${median(seconds).toFixed(2)} | ${Math.round(rows / median(seconds))} | ${ratio(seconds).toFixed(2)}× | ${note} |`;
  const endToEnd = times.add.map((add, round) => add + times.worker[round] + times.collect[round]);
  const table = [
    `${rows} STS-B sentences, all-MiniLM-L6-v2 shape (random weights), max_seq_len 128, shard size ${args['shard-size']}, ${threads} threads in all; median of ${args.rounds} rounds; ${os.availableParallelism()} cores, ${describeHost()}; ${new Date().toISOString().slice(0, 10)}`,
    '',
    '| | seconds | rows/s | time ÷ in-process | |',
    '|---|---:|---:|---:|---|',
    line('in-process (`bert-embed encode -o .npy`)', times.inProcess, 'model load included'),
    line('queue: one worker', times.worker, `overhead ${((ratio(times.worker) - 1) * 100).toFixed(1)}% (target ≤ 10%)`),
    line('queue: add + one worker + collect', endToEnd, `add ${median(times.add).toFixed(2)} s (loads the model, reads the corpus twice), collect ${median(times.collect).toFixed(2)} s`),
    line(`queue: two workers, ${Math.max(1, Math.floor(threads / 2))} thread(s) each`, times.twoWorkers, 'both on this machine'),
    line('Ray Data: one actor (1 CPU: 1 thread)', ray[1], 'local cluster of two 1-CPU nodes, batch_size 64; actor start and model load included; ÷ the in-process rounds in turn'),
    line('Ray Data: two actors (one per node, 1 thread each)', ray[2], 'as above'),
  ].join('\n');
  console.log(table);
  if (!args['print-only']) writeIntoBenchmarks('scale-out', table);
}

await main();
