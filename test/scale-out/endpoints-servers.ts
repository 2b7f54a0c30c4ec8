// Real `bert-embed serve` processes (bin/bert-embed.js, the tiny checkpoint) for the tests of
// clients over several servers: each on a UNIX socket and a loopback port, killed at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BertClient, Encoder } from '../../lib/index.js';
import { BIN } from '../cli/run-cli.js';
import { checkpointDir } from '../helpers/checkpoints.js';
import { stsSentences } from '../helpers/sts.js';

export const MODEL = checkpointDir('tiny');
export const MAX_SEQ_LEN = 32;
const READY_WITHIN_MS = 60_000;

export interface Served {
  name: string;
  child: ChildProcess;
  socket: string;
  port: number;
  exited: Promise<number | null>;
  stderr(): string;
}

export class Servers {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'be-endpoints-'));
  readonly #started: Served[] = [];

  /** Starts a server and waits for `ready:`; `socket` reuses a path (a restart). */
  async start(name: string, socket = path.join(this.dir, `${name}.sock`)): Promise<Served> {
    const args = ['serve', '-m', MODEL, '--socket', socket, '--port', '0', '--max-seq-len', String(MAX_SEQ_LEN), '--max-inputs', '100000', '--max-body-bytes', String(64 << 20)];
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const served: Served = { name, child, socket, port: 0, exited, stderr: () => stderr };
    this.#started.push(served);
    const deadline = Date.now() + READY_WITHIN_MS;
    while (!stderr.includes('ready:') && child.exitCode === null && Date.now() < deadline) await sleep(20);
    if (!stderr.includes('ready:')) throw new Error(`bert-embed serve (${name}) did not start:\n${stderr}`);
    served.port = Number(/http:\/\/[^ ;]+:(\d+)/.exec(stderr)![1]);
    return served;
  }

  startMany(names: string[]): Promise<Served[]> {
    return Promise.all(names.map((name) => this.start(name)));
  }

  /** SIGKILLs whatever still runs, and removes the sockets' folder. */
  async stopAll(): Promise<void> {
    for (const served of this.#started) if (served.child.exitCode === null && served.child.signalCode === null) served.child.kill('SIGKILL');
    await Promise.all(this.#started.map((served) => served.exited));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The encode requests the server has counted (its GET /status). */
export async function requestsCounted(served: Served): Promise<number> {
  const client = new BertClient({ socket: served.socket });
  try {
    return (await client.status()).requests as number;
  } finally {
    client.close();
  }
}

/** Resolves once the server is encoding (sentences outstanding, by its GET /status): a request sent is being worked on. */
export async function untilEncoding(served: Served, withinMs = 30_000): Promise<void> {
  const client = new BertClient({ socket: served.socket });
  try {
    const deadline = Date.now() + withinMs;
    while (Date.now() < deadline) {
      if (((await client.status()).outstandingSentences as number) > 0) return;
      await sleep(2);
    }
  } finally {
    client.close();
  }
  throw new Error(`${served.name} had no sentences to encode within ${withinMs} ms`);
}

/** Resolves once a fresh connection to the server's socket is refused: it has stopped listening (a drain started). */
export async function untilRefusing(served: Served, withinMs = 10_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    const accepted = await new Promise<boolean>((resolve) => {
      const probe = net.connect(served.socket, () => {
        probe.destroy();
        resolve(true);
      });
      probe.once('error', () => resolve(false));
    });
    if (!accepted) return;
    await sleep(10);
  }
  throw new Error(`${served.name} still accepts connections after ${withinMs} ms`);
}

/**
 * Holds a server's drain open: a request whose body never ends keeps it "in flight", so the server
 * stays up, answering 503 on its open connections, until `release()`.
 */
export async function holdDrainOpen(served: Served): Promise<{ release(): void }> {
  const held = net.connect(served.socket);
  await new Promise<void>((resolve, reject) => {
    held.once('connect', resolve);
    held.once('error', reject);
  });
  held.on('error', () => undefined);
  held.write('POST /encode HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"texts"');
  return { release: () => held.destroy() };
}

/** `count` requests of `perRequest` texts, no text in two requests (each carries its request's number). */
export function distinctRequests(count: number, perRequest: number): string[][] {
  const sentences = stsSentences('dev');
  return Array.from({ length: count }, (_, request) => Array.from({ length: perRequest }, (_, i) => `${sentences[(request * perRequest + i) % sentences.length]} #${request}.${i}`));
}

/** Texts long enough (near max-seq-len) that one request of `count` keeps a server busy a while. */
export function longRequest(count: number): string[] {
  const sentences = stsSentences('dev');
  return Array.from({ length: count }, (_, i) => `${sentences[i % sentences.length]} ${sentences[(i + 1) % sentences.length]} #${i}`);
}

/** Each request's own vectors, from the in-process API. */
export async function referenceVectors(encoder: Encoder, requests: string[][]): Promise<Float32Array[]> {
  const vectors: Float32Array[] = [];
  for (const texts of requests) vectors.push((await encoder.encode(texts)).data);
  return vectors;
}

export function loadReferenceEncoder(): Promise<Encoder> {
  return Encoder.load(MODEL, { maxSeqLen: MAX_SEQ_LEN });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
