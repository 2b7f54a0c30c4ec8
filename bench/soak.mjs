#!/usr/bin/env node
// Soak: a real `bert-embed serve` (bin/bert-embed.js, a process of its own) under a long mixed load,
// its resident memory (VmRSS) and open descriptors (/proc/PID/fd) sampled every second. The load:
// concurrent clients sending, for a set number of requests, /encode, /embed and /v1/embeddings in
// JSON and binary float32, /tokenize, /score (when the model has the masked-LM head), and the
// misbehaviour a long-running server meets: malformed and invalid requests, clients that hang up
// before their answer, fresh connections beside keep-alive ones. Each answer's status and shape
// is checked; the figures are what a leak would show: memory or descriptors that keep growing.
//
//   npm run build:ts && node bench/soak.mjs [--requests 5000] [--clients 16] [--workers 1] [--model DIR]
//
// Default model: a bert-tiny-shaped random-weight checkpoint with BertForMaskedLM's head (small, so
// that a run of two minutes sends many requests through the HTTP paths), written once to
// .fixtures/example-tiny-mlm; --model for another (a model directory).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { makeCheckpoint } from '../scripts/make-checkpoint.mjs';
import { readStsPairs, repoRoot, sharedDir } from '../scripts/example-fixtures.mjs';
import { describeHost } from './host.mjs';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '5000' },
    clients: { type: 'string', default: '16' },
    workers: { type: 'string', default: '1' },
    'max-seq-len': { type: 'string', default: '128' },
    model: { type: 'string' },
    markdown: { type: 'boolean', default: false },
  },
});
const totalRequests = Number(args.requests);
const clients = Number(args.clients);

async function defaultModel() {
  const dir = path.join(repoRoot, '.fixtures', 'example-tiny-mlm');
  if (!fs.existsSync(path.join(dir, 'model.safetensors'))) {
    console.error(`writing a random-weight bert-tiny-shaped BertForMaskedLM checkpoint to ${dir}`);
    const scratch = `${dir}.writing-${process.pid}`;
    await makeCheckpoint({ configPath: path.join(sharedDir, 'models', 'bert-tiny', 'config.json'), outDir: scratch, mlmHead: true, seed: 31, std: 0.1 });
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(scratch, dir);
  }
  return dir;
}
const modelDir = args.model ?? (await defaultModel());
const sentences = readStsPairs('test').flatMap((pair) => [pair.first, pair.second]);

// ---- the server -------------------------------------------------------------------------------
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'be-soak-'));
const socket = path.join(dir, 'bert.sock');
const serverArgs = ['serve', '-m', modelDir, '--socket', socket, '--workers', args.workers, '--max-seq-len', args['max-seq-len']];
const server = spawn(process.execPath, [path.join(repoRoot, 'bin', 'bert-embed.js'), ...serverArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
let serverLog = '';
server.stderr.on('data', (chunk) => (serverLog += chunk));
const exited = new Promise((resolve) => server.once('exit', (code, signal) => resolve({ code, signal })));
const deadline = Date.now() + 120_000;
while (!serverLog.includes('ready:') && server.exitCode === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
if (!serverLog.includes('ready:')) throw new Error(`bert-embed serve did not start:\n${serverLog}`);

function processFigures(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
  return { rssMiB: field('VmRSS') / 1024, threads: field('Threads'), fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

// ---- the requests -----------------------------------------------------------------------------
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: clients });

/** One request over the socket; resolves with the status, headers and body ('aborted' when it hung up, 'error' when the connection failed). */
function send({ method = 'POST', urlPath, body, headers = {}, fresh = false, abortAfterMs }) {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      { socketPath: socket, method, path: urlPath, agent: fresh ? false : keepAlive, headers: { 'content-type': 'application/json', ...headers } },
      (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks) }));
        response.on('error', reject);
      },
    );
    outgoing.on('error', (error) => resolve(abortAfterMs !== undefined ? { status: 'aborted' } : { status: 'error', body: Buffer.from(`${error.code ?? ''} ${error.message}`) }));
    outgoing.end(body);
    if (abortAfterMs !== undefined) setTimeout(() => outgoing.destroy(), abortAfterMs);
  });
}

let seed = 7;
const random = (n) => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed % n;
};
const pick = () => sentences[random(sentences.length)];
const batch = () => Array.from({ length: [1, 1, 2, 4, 8, 16][random(6)] }, pick);

const status = await send({ method: 'GET', urlPath: '/status' });
const heads = JSON.parse(status.body.toString('utf8')).heads ?? [];
const hasHead = heads.includes('maskedLm');

/** The mix: [weight, name, make a request, check its answer]. */
const KINDS = [
  [20, 'encode (JSON)', () => ({ urlPath: '/encode', texts: batch() }), (r, q) => r.status === 200 && JSON.parse(r.body).results.length === q.texts.length],
  [
    20,
    'embed (binary)',
    () => ({ urlPath: '/embed', texts: batch(), binary: true }),
    (r, q) => {
      const [rows, width] = String(r.headers['x-embedding-shape']).split(',').map(Number);
      return r.status === 200 && rows === q.texts.length && r.body.length === rows * width * 4;
    },
  ],
  [15, 'embed (JSON)', () => ({ urlPath: '/embed', texts: batch() }), (r, q) => r.status === 200 && JSON.parse(r.body).length === q.texts.length],
  [10, 'openai (JSON, base64)', () => ({ urlPath: '/v1/embeddings', texts: batch(), base64: random(2) === 0 }), (r, q) => r.status === 200 && JSON.parse(r.body).data.length === q.texts.length],
  [15, 'tokenize', () => ({ urlPath: '/tokenize', texts: batch() }), (r, q) => r.status === 200 && JSON.parse(r.body).length === q.texts.length],
  ...(hasHead ? [[8, 'score', () => ({ urlPath: '/score', texts: [pick()] }), (r) => r.status === 200 && JSON.parse(r.body).length === 1]] : []),
  [4, 'invalid (422)', () => ({ urlPath: '/embed', raw: JSON.stringify({ inputs: [1, 2] }) }), (r) => r.status === 422],
  [3, 'malformed JSON (400)', () => ({ urlPath: '/encode', raw: '{"texts": [' }), (r) => r.status === 400],
  [3, 'client hangs up', () => ({ urlPath: '/encode', texts: Array.from({ length: 32 }, pick), abortAfterMs: 1 }), (r) => r.status === 'aborted' || r.status === 200],
];
const totalWeight = KINDS.reduce((sum, [weight]) => sum + weight, 0);

function bodyOf(kind, request) {
  if (request.raw !== undefined) return request.raw;
  if (request.urlPath === '/encode') return JSON.stringify({ id: random(1e6), texts: request.texts });
  if (request.urlPath === '/v1/embeddings') return JSON.stringify({ input: request.texts, model: 'soak', ...(request.base64 ? { encoding_format: 'base64' } : {}) });
  return JSON.stringify({ inputs: request.texts });
}

const counts = new Map(KINDS.map(([, name]) => [name, { sent: 0, wrong: 0 }]));
const wrongExamples = [];
let issued = 0;
let done = 0;

async function client() {
  while (issued < totalRequests) {
    issued++;
    let r = random(totalWeight);
    const kind = KINDS.find(([weight]) => (r -= weight) < 0);
    const [, name, make, check] = kind;
    const request = make();
    const answer = await send({
      urlPath: request.urlPath,
      body: bodyOf(kind, request),
      headers: request.binary ? { accept: 'application/octet-stream' } : {},
      fresh: random(10) === 0,
      abortAfterMs: request.abortAfterMs,
    });
    const tally = counts.get(name);
    tally.sent++;
    let ok = false;
    try {
      ok = check(answer, request);
    } catch {
      ok = false;
    }
    if (!ok) {
      tally.wrong++;
      if (wrongExamples.length < 5) wrongExamples.push(`${name}: ${answer.status} ${answer.body?.toString('utf8').slice(0, 200)}`);
    }
    done++;
  }
}

// ---- run, sampling every second ----------------------------------------------------------------
const samples = [];
const started = performance.now();
const sample = () => samples.push({ seconds: (performance.now() - started) / 1000, done, ...processFigures(server.pid) });
sample();
const sampler = setInterval(() => {
  sample();
  const s = samples[samples.length - 1];
  if (samples.length % 10 === 0) console.error(`${s.seconds.toFixed(0)} s: ${s.done} requests, RSS ${s.rssMiB.toFixed(1)} MiB, ${s.fds} descriptors`);
}, 1000);
await Promise.all(Array.from({ length: clients }, client));
clearInterval(sampler);
sample();
const seconds = (performance.now() - started) / 1000;
keepAlive.destroy();
await new Promise((resolve) => setTimeout(resolve, 1000)); // the server closes the idle connections' descriptors
const settled = processFigures(server.pid);

server.kill('SIGTERM');
const { code, signal } = await exited;
const socketLeft = fs.existsSync(socket);
fs.rmSync(dir, { recursive: true, force: true });

// ---- report ---------------------------------------------------------------------------------------
const modelName = path.basename(modelDir);
const wrong = [...counts.values()].reduce((sum, { wrong: w }) => sum + w, 0);
console.log(
  `${totalRequests} requests from ${clients} clients in ${seconds.toFixed(1)} s (${(totalRequests / seconds).toFixed(0)} requests/s), ` +
    `${modelName}${hasHead ? ' (masked-LM head)' : ''}, --workers ${args.workers} --max-seq-len ${args['max-seq-len']}, ` +
    `${os.availableParallelism()} cores (${describeHost()}), node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`,
);
console.log('| request | sent | wrong answers |');
console.log('| --- | --- | --- |');
for (const [name, { sent, wrong: w }] of counts) console.log(`| ${name} | ${sent} | ${w} |`);
console.log('');

// Every sample when short, else about 12 rows spread over the run (first and last included).
const step = Math.max(1, Math.round(samples.length / 12));
const rows = samples.filter((_, i) => i % step === 0 || i === samples.length - 1);
console.log('| time | requests done | RSS (MiB) | open descriptors | threads |');
console.log('| --- | --- | --- | --- | --- |');
for (const s of rows) console.log(`| ${s.seconds.toFixed(0)} s | ${s.done} | ${s.rssMiB.toFixed(1)} | ${s.fds} | ${s.threads} |`);
console.log(`| 1 s after the load | ${done} | ${settled.rssMiB.toFixed(1)} | ${settled.fds} | ${settled.threads} |`);
console.log('');

// Growth after warm-up: the first sample past half the requests against the last (the allocator's
// pools grow for the first thousands of requests of new shapes, then level off).
const warm = samples.find((s) => s.done >= totalRequests / 2) ?? samples[0];
const last = samples[samples.length - 1];
const peakRss = Math.max(...samples.map((s) => s.rssMiB));
const peakFds = Math.max(...samples.map((s) => s.fds));
console.log(
  `RSS ${samples[0].rssMiB.toFixed(1)} MiB before the load, ${warm.rssMiB.toFixed(1)} MiB at half the requests (${warm.done}), ` +
    `${last.rssMiB.toFixed(1)} MiB at the end (${last.rssMiB - warm.rssMiB >= 0 ? '+' : ''}${(last.rssMiB - warm.rssMiB).toFixed(1)} MiB over the last ${totalRequests - warm.done} requests, ` +
    `${(((last.rssMiB - warm.rssMiB) * 1024) / Math.max(1, totalRequests - warm.done)).toFixed(2)} KiB per request), peak ${peakRss.toFixed(1)} MiB; ` +
    `descriptors ${samples[0].fds} before, peak ${peakFds} under load, ${settled.fds} after. ` +
    `${wrong} wrong answers. SIGTERM: exit ${code ?? signal}, socket ${socketLeft ? 'LEFT BEHIND' : 'removed'}.`,
);
if (wrongExamples.length > 0) console.log(`\nwrong answers, first ${wrongExamples.length}:\n${wrongExamples.join('\n')}`);
process.exitCode = wrong > 0 || code !== 0 || socketLeft ? 1 : 0;
