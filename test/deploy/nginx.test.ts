// deploy/nginx.conf in front of two real `bert-embed serve` processes on UNIX sockets: 32 clients ×
// 50 requests over TCP to nginx while one server is SIGKILLed and restarted, then the other is
// drained with SIGTERM (as systemd stops deploy/bert-embed@.service) and restarted. Every request
// must be answered 200 with its own vectors, checked against the same checkpoint in this process.
// nginx runs the shipped file itself, with only its socket paths, port and log path replaced.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Encoder } from '../../lib/index.js';
import { BIN } from '../cli/run-cli.js';
import { checkpointDir } from '../helpers/checkpoints.js';
import { repoRoot } from '../reference/helpers.js';
import { request as socketRequest } from '../server/harness.js';
import { freePort } from '../helpers/free-port.js';

const MODEL = checkpointDir('tiny');
const MAX_SEQ_LEN = 64;
const CLIENTS = 32;
const REQUESTS = 50;
/** Pause between one client's requests, so the load lasts while servers die and come back (~20 s). */
const PAUSE_MS = 250;
/**
 * Each client's last HELD requests wait for the restarted first server to be back in nginx's
 * rotation, and its last 2 for the second server's drain to have begun: both happen under load.
 */
const HELD = 10;
const TEMPLATE = path.join(repoRoot, 'deploy', 'nginx.conf');

function findNginx(): string {
  for (const candidate of ['/usr/sbin/nginx', '/usr/bin/nginx']) if (fs.existsSync(candidate)) return candidate;
  try {
    return execFileSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('nginx is not installed: `npm run setup` (scripts/setup.sh) installs it');
  }
}

/** Replaces `from` in `text`, which must occur exactly `count` times (so a changed template fails here, loudly). */
function replaceExactly(text: string, from: string | RegExp, to: (index: number) => string, count: number): string {
  const pattern = typeof from === 'string' ? new RegExp(from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'g') : from;
  const found = text.match(pattern)?.length ?? 0;
  if (found !== count) throw new Error(`deploy/nginx.conf: expected ${count} of ${pattern} but found ${found}`);
  let index = 0;
  return text.replace(pattern, () => to(index++));
}

/** deploy/nginx.conf for this run, and a main nginx.conf around it with every path in `dir`. */
function writeNginxConfig(dir: string, sockets: string[], port: number): string {
  let site = fs.readFileSync(TEMPLATE, 'utf8');
  site = replaceExactly(site, /unix:\/run\/bert-embed-\d+\/bert\.sock/g, (i) => `unix:${sockets[i]}`, sockets.length);
  site = replaceExactly(site, 'listen 127.0.0.1:8080;', () => `listen 127.0.0.1:${port};`, 1);
  site = replaceExactly(site, '/var/log/nginx/bert-embed.access.log', () => path.join(dir, 'access.log'), 1);
  fs.writeFileSync(path.join(dir, 'bert-embed.conf'), site);
  const temp = path.join(dir, 'nginx-temp');
  fs.mkdirSync(temp);
  const main = [
    // As root, nginx's workers would run as nobody, who cannot open the 0600 sockets.
    process.getuid?.() === 0 ? 'user root;' : '',
    'worker_processes 1;',
    `pid ${path.join(dir, 'nginx.pid')};`,
    `error_log ${path.join(dir, 'error.log')} warn;`,
    'events { worker_connections 1024; }',
    'http {',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${path.join(temp, kind)};`),
    `  include ${path.join(dir, 'bert-embed.conf')};`,
    '}',
  ].join('\n');
  const file = path.join(dir, 'nginx.conf');
  fs.writeFileSync(file, `${main}\n`);
  return file;
}


interface Served {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

let dir: string;
let encoder: Encoder;
let nginx: ChildProcess | undefined;
let nginxExited: Promise<unknown> | undefined;
const children: Served[] = [];

/** `bert-embed serve` on a UNIX socket; resolves once it says it is ready. */
async function serve(socket: string): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '-m', MODEL, '--socket', socket, '--max-seq-len', String(MAX_SEQ_LEN), '--threads', '1']);
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const served = { child, stderr: () => stderr, exited };
  children.push(served);
  const deadline = Date.now() + 60_000;
  while (!stderr.includes('ready:') && child.exitCode === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  if (!stderr.includes('ready:')) throw new Error(`bert-embed serve did not start:\n${stderr}`);
  return served;
}

/** Requests one server has answered 200 (but for /metrics, which this asks it directly), from its /metrics. */
async function answered(socket: string): Promise<number> {
  const metrics = (await socketRequest(socket, 'GET', '/metrics')).body.toString('utf8');
  let total = 0;
  for (const match of metrics.matchAll(/^bert_embed_http_requests_total\{endpoint="([^"]+)",status="200"\} (\d+)$/gm)) {
    if (match[1] !== '/metrics') total += Number(match[2]);
  }
  return total;
}

/** GET /health through nginx: true for 200. */
function healthThroughNginx(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = http.get({ host: '127.0.0.1', port, path: '/health', agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    probe.once('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// A different sentence for every text of every request, so that an answer holding another request's
// vectors cannot pass.
const WORDS = 'the a quick brown fox jumps over lazy dog river mountain music played loudly quietly bank money walks city old new green'.split(' ');
function textOf(client: number, request: number, k: number): string {
  let seed = client * 7919 + request * 104729 + k * 15485863 + 1;
  const words = Array.from({ length: 3 + ((client + request + k) % 12) }, () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return WORDS[seed % WORDS.length];
  });
  return `client ${client} request ${request} text ${k}: ${words.join(' ')}.`;
}

type Kind = 'encode' | 'embed' | 'openai' | 'binary';
const KINDS: Kind[] = ['encode', 'embed', 'openai', 'binary'];

interface Outcome {
  texts: string[];
  kind: Kind;
  vectors: Float32Array[];
}

/** One request to nginx; resolves with the vectors it answered, or rejects naming what was wrong. */
function send(agent: http.Agent, port: number, client: number, index: number): Promise<Outcome> {
  const kind = KINDS[(client + index) % KINDS.length];
  const texts = Array.from({ length: [1, 2, 1, 3][(client * 3 + index) % 4] }, (_, k) => textOf(client, index, k));
  const id = `c${client}-r${index}`;
  const [urlPath, body] =
    kind === 'encode' ? ['/encode', { id, texts }] : kind === 'openai' ? ['/v1/embeddings', { input: texts, model: 'tiny' }] : ['/embed', { inputs: texts }];
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (kind === 'binary') headers.accept = 'application/octet-stream';
  return new Promise((resolve, reject) => {
    const outgoing = http.request({ host: '127.0.0.1', port, method: 'POST', path: urlPath, agent, headers, timeout: 30_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const bytes = Buffer.concat(chunks);
        try {
          if (response.statusCode !== 200) throw new Error(`${id} ${urlPath}: status ${response.statusCode}: ${bytes.toString('utf8').slice(0, 300)}`);
          let vectors: Float32Array[];
          if (kind === 'binary') {
            const [rows, width] = String(response.headers['x-embedding-shape']).split(',').map(Number);
            if (rows !== texts.length || bytes.length !== rows * width * 4) throw new Error(`${id}: shape ${response.headers['x-embedding-shape']} for ${bytes.length} bytes`);
            const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
            vectors = Array.from({ length: rows }, (_, i) => all.subarray(i * width, (i + 1) * width));
          } else {
            const json = JSON.parse(bytes.toString('utf8'));
            if (kind === 'encode') {
              if (json.id !== id) throw new Error(`${id}: answered with id ${JSON.stringify(json.id)}`);
              vectors = json.results.map((row: number[]) => Float32Array.from(row));
            } else if (kind === 'openai') {
              vectors = json.data.map(({ index: at, embedding }: { index: number; embedding: number[] }, i: number) => {
                if (at !== i) throw new Error(`${id}: data[${i}].index is ${at}`);
                return Float32Array.from(embedding);
              });
            } else {
              vectors = json.map((row: number[]) => Float32Array.from(row));
            }
          }
          resolve({ texts, kind, vectors });
        } catch (error) {
          reject(error);
        }
      });
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`${id}: no answer in 30 s`)));
    outgoing.on('error', (error) => reject(new Error(`${id} ${urlPath}: ${error.message}`)));
    outgoing.end(JSON.stringify(body));
  });
}

let port: number;
const sockets: string[] = [];

beforeAll(async () => {
  const binary = findNginx();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'be-nginx-'));
  sockets.push(path.join(dir, 'a.sock'), path.join(dir, 'b.sock'));
  port = await freePort();
  const config = writeNginxConfig(dir, sockets, port);
  execFileSync(binary, ['-t', '-q', '-p', dir, '-e', path.join(dir, 'error.log'), '-c', config]);
  // One thread each, here and in the servers: on a busy 2-core machine, more spin against each other.
  encoder = await Encoder.load(MODEL, { maxSeqLen: MAX_SEQ_LEN, threads: 1 });
  await Promise.all(sockets.map((socket) => serve(socket)));
  nginx = spawn(binary, ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', config, '-g', 'daemon off;'], { stdio: 'inherit' });
  nginxExited = new Promise((resolve) => nginx!.once('exit', resolve));
  await until(() => {
    if (nginx!.exitCode !== null) throw new Error(`nginx exited ${nginx!.exitCode}:\n${fs.readFileSync(path.join(dir, 'error.log'), 'utf8')}`);
    return healthThroughNginx(port);
  }, 'nginx to answer /health');
});

afterAll(async () => {
  if (nginx && nginx.exitCode === null) {
    nginx.kill('SIGQUIT');
    await nginxExited;
  }
  for (const { child, exited } of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  }
  await encoder?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it('answers every request with its own vectors while one server is killed and restarted and the other is drained and restarted', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  const total = CLIENTS * REQUESTS;
  let completed = 0;
  let loadDone = false;
  let firstIsBack!: () => void;
  const firstBack = new Promise<void>((resolve) => (firstIsBack = resolve));
  let drainStarted!: () => void;
  const draining = new Promise<void>((resolve) => (drainStarted = resolve));
  const failures: string[] = [];
  const outcomes: Outcome[] = [];
  const events: string[] = [];

  // The servers' lives during the load: SIGKILL of the first at a quarter of the requests and its
  // restart at once; once nginx sends it requests again, SIGTERM of the second (drain) and its
  // restart, a round of requests later.
  const [first, second] = children;
  const lifecycle = (async () => {
    await until(() => completed >= total / 4, 'a quarter of the requests');
    first.child.kill('SIGKILL');
    await first.exited;
    events.push(`SIGKILL first server after ${completed} requests`);
    await serve(sockets[0]);
    events.push(`first server ready again after ${completed} requests`);
    // nginx leaves a failed server out for fail_timeout (5 s), then tries it with one request (the
    // clients' or these probes').
    await until(async () => {
      if ((await answered(sockets[0])) > 0) return true;
      await healthThroughNginx(port); // a request of its own, for when every client is held
      return false;
    }, 'nginx to send the restarted server requests');
    events.push(`first server answering through nginx after ${completed} requests`);
    firstIsBack();
    const back = completed;
    await until(() => completed >= back + CLIENTS, 'a round of requests with both servers');
    second.child.kill('SIGTERM');
    drainStarted();
    events.push(`SIGTERM second server after ${completed} requests`);
    const code = await second.exited;
    events.push(`second server drained (exit ${code}) after ${completed} requests`);
    expect(second.stderr()).toContain('SIGTERM: finishing requests in flight');
    expect(code).toBe(0);
    await serve(sockets[1]);
    events.push(`second server ready again after ${completed} requests`);
    if (loadDone) events.push('(the load had ended)');
  })();
  // Should the lifecycle fail, the held clients go on, so that its error is reported at once.
  lifecycle.catch(() => {
    firstIsBack();
    drainStarted();
  });

  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      await sleep((client * PAUSE_MS) / CLIENTS); // spread the clients over one pause
      for (let index = 0; index < REQUESTS; index++) {
        if (index === REQUESTS - HELD) await firstBack;
        if (index === REQUESTS - 2) await draining;
        try {
          outcomes.push(await send(agent, port, client, index));
        } catch (error) {
          failures.push((error as Error).message);
        }
        completed++;
        await sleep(PAUSE_MS);
      }
    }),
  );
  loadDone = true;
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  await lifecycle;
  const checking = performance.now();
  const log = fs.readFileSync(path.join(dir, 'access.log'), 'utf8').trim().split('\n');
  const retried = log.filter((line) => /upstream_status=\S+, /.test(line));
  console.log(`${total} requests in ${seconds.toFixed(1)} s; ${events.join('; ')}; ${retried.length} retried by nginx on the other server`);

  expect(failures.slice(0, 5)).toEqual([]);
  expect(outcomes).toHaveLength(total);
  // The kill and the drain cost some requests their first server: nginx sent those to the other one.
  expect(retried.length).toBeGreaterThan(0);
  expect(log.filter((line) => !/" 200 /.test(line))).toEqual([]);

  // Every answer is its own texts' vectors: /embed and /v1/embeddings answer unit vectors, /encode the pooled ones.
  const texts = [...new Set(outcomes.flatMap((outcome) => outcome.texts))];
  const raw = (await encoder.encode(texts)).rows();
  const unit = raw.map((row) => {
    const norm = Math.hypot(...row);
    return row.map((value) => value / norm);
  });
  const rowOf = new Map(texts.map((text, i) => [text, i]));
  let worst = 0;
  for (const { texts: sent, kind, vectors } of outcomes) {
    expect(vectors).toHaveLength(sent.length);
    sent.forEach((text, i) => {
      const expected = (kind === 'encode' ? raw : unit)[rowOf.get(text)!];
      expect(vectors[i]).toHaveLength(expected.length);
      for (let j = 0; j < expected.length; j++) {
        const error = Math.abs(vectors[i][j] - expected[j]) / Math.max(1, Math.abs(expected[j]));
        if (!(error <= 1e-5)) expect.fail(`${kind} "${text}" [${j}]: ${vectors[i][j]}, expected ${expected[j]}`);
        worst = Math.max(worst, error);
      }
    });
  }
  expect(worst).toBeLessThanOrEqual(1e-5);
  console.log(`${texts.length} texts checked in ${((performance.now() - checking) / 1000).toFixed(1)} s; largest relative difference ${worst.toExponential(1)}`);
});
