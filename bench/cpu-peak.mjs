#!/usr/bin/env node
// The matrix-product peak of this machine per precision (float32, bf16, int8), through the oneDNN the
// addon links, on the cores the engine uses (OMP_NUM_THREADS = the available cores): the figure an
// encoder's FLOP/s is read against in BENCHMARKS.md. Needs g++ and libdnnl-dev (npm run setup installs both).
//
//   node bench/cpu-peak.mjs
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeHost } from './host.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const binary = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bert-embed-peak-')), 'peak');
execFileSync('g++', ['-O2', '-std=c++17', path.join(here, 'cpu-peak', 'peak.cpp'), '-o', binary, '-ldnnl'], { stdio: 'inherit' });
const threads = String(os.availableParallelism());
const lines = execFileSync(binary, { env: { ...process.env, OMP_NUM_THREADS: threads }, encoding: 'utf8' }).trim().split('\n').map((line) => JSON.parse(line));
console.log(`${describeHost()}, ${threads} threads, ${new Date().toISOString().slice(0, 10)}\n`);
console.log('| precision | m × n × k | GFLOP/s | oneDNN kernel |');
console.log('| --- | --- | --- | --- |');
for (const r of lines) console.log(r.error ? `| ${r.type} | — | — | ${r.error} |` : `| ${r.type} | ${r.m} × ${r.n} × ${r.k} | ${r.gflops.toFixed(0)} | ${r.kernel} |`);
