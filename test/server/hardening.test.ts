// The HTTP hardening and exposure rules of issue 12, against the real `bert-embed serve` process,
// with real clients (curl, the openai SDK, BertClient, node http) and raw sockets for malformed
// HTTP: request ids echoed only where a header can carry them (finding 1), no sentence pairs on the
// APIs that have none (2), a request larger than --max-queued refused for good (8), unit vectors
// from /v1/embeddings (9), slow bodies and unknown transfer codings (11), --api-key, the refusal to
// listen beyond loopback without one, --cors, and the socket's 0600.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BertClient, Encoder } from '../../lib/index.js';
import { BIN } from '../cli/run-cli.js';
import { checkpointDir } from '../helpers/checkpoints.js';
import { expectVectorsClose } from '../helpers/compare.js';
import { request } from './harness.js';

const execFileAsync = promisify(execFile);
const MODEL = checkpointDir('mlm-tiny');
const MAX_SEQ_LEN = 32;
const MAX_QUEUED = 5;
const KEY = 'sk-test-0123456789abcdef';
const ORIGIN = 'https://app.example';

let dir: string;
let encoder: Encoder;

interface Served {
  child: ChildProcess;
  socket: string;
  port: number;
  exited: Promise<number | null>;
  stderr(): string;
}
const served: Served[] = [];
/** --max-queued 5, --request-timeout 1, no key, no CORS */
let plain: Served;
/** BERT_EMBED_API_KEY and --cors */
let guarded: Served;

/** This process's environment without BERT_EMBED_API_KEY. */
function withoutKey(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.BERT_EMBED_API_KEY;
  return env;
}

/** Starts `bert-embed serve` on a UNIX socket and TCP (port 0) and waits for `until` on stderr. */
async function serve(name: string, args: string[], env: NodeJS.ProcessEnv = {}, until = 'ready:'): Promise<Served> {
  const socket = path.join(dir, `${name}.sock`);
  const child = spawn(process.execPath, [BIN, 'serve', '-m', MODEL, '--socket', socket, '--port', '0', '--max-seq-len', String(MAX_SEQ_LEN), ...args], {
    env: { ...withoutKey(), ...env },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!stderr.includes(until) && child.exitCode === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  if (!stderr.includes(until)) throw new Error(`bert-embed serve ${args.join(' ')} did not start:\n${stderr}`);
  const port = Number(/http:\/\/[^ ;]+:(\d+)/.exec(stderr)![1]);
  const started = { child, socket, port, exited, stderr: () => stderr };
  served.push(started);
  return started;
}

async function stop(server: Served): Promise<void> {
  server.child.kill('SIGTERM');
  await server.exited;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
  json(): any;
}

/** curl over TCP (or the UNIX socket), headers and body. */
async function curl(target: Served | { port: number }, urlPath: string, options: { body?: string; headers?: string[]; method?: string; socket?: boolean } = {}): Promise<Answer> {
  const args = ['-sS', '-i', '--max-time', '30'];
  if (options.method) args.push('-X', options.method);
  for (const header of options.headers ?? []) args.push('-H', header);
  if (options.body !== undefined) {
    const file = path.join(dir, `body-${process.hrtime.bigint()}.json`);
    fs.writeFileSync(file, options.body);
    args.push('-H', 'content-type: application/json', '--data-binary', `@${file}`);
  }
  if (options.socket) args.push('--unix-socket', (target as Served).socket, `http://localhost${urlPath}`);
  else args.push(`http://127.0.0.1:${target.port}${urlPath}`);
  const { stdout } = await execFileAsync('curl', args, { maxBuffer: 64 << 20, encoding: 'utf8' });
  const split = stdout.indexOf('\r\n\r\n');
  const [statusLine, ...lines] = stdout.slice(0, split).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = stdout.slice(split + 4);
  return { status: Number(statusLine.split(' ')[1]), headers, body, json: () => JSON.parse(body) };
}

/** Raw bytes over TCP: everything the server sends until it closes the connection (or `waitMs`). */
function rawExchange(port: number, write: (socket: net.Socket) => void, waitMs = 10_000): Promise<{ text: string; closed: boolean; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const finish = (closed: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (chunk) => (text += chunk.toString('utf8')));
    socket.once('close', () => finish(true));
    socket.once('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? undefined : reject(error)));
    socket.once('connect', () => write(socket));
  });
}

function statusOf(raw: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);
}

/** The JSON body of a raw answer, de-chunked when it came chunked. */
function jsonBodyOf(raw: string): any {
  const split = raw.indexOf('\r\n\r\n');
  let body = raw.slice(split + 4);
  if (/\r\ntransfer-encoding: chunked\r\n/i.test(raw.slice(0, split + 2))) {
    let decoded = '';
    for (;;) {
      const end = body.indexOf('\r\n');
      const size = Number.parseInt(body.slice(0, end), 16);
      if (!(size > 0)) break;
      decoded += body.slice(end + 2, end + 2 + size);
      body = body.slice(end + 2 + size + 2);
    }
    body = decoded;
  }
  return JSON.parse(body);
}

function norm(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] * values[i];
  return Math.sqrt(sum);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'be-hard-'));
  encoder = await Encoder.load(MODEL, { maxSeqLen: MAX_SEQ_LEN });
  [plain, guarded] = await Promise.all([
    serve('plain', ['--max-queued', String(MAX_QUEUED), '--request-timeout', '1']),
    serve('guarded', ['--cors', ORIGIN], { BERT_EMBED_API_KEY: KEY }),
  ]);
});

afterAll(async () => {
  for (const server of served) if (server.child.exitCode === null) await stop(server);
  await encoder?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('finding 1: a bert-as-service id is echoed in X-Request-Id only when a header can carry it', () => {
  const text = 'hello world';

  it('a non-ASCII, spaced or 100 KB id is answered 200 and echoed in the body only (curl)', async () => {
    const expected = (await encoder.encode([text])).data;
    for (const id of ['中文-id', '🦜', 'two words', 'x'.repeat(100_000)]) {
      const answer = await curl(plain, '/encode', { body: JSON.stringify({ id, texts: [text] }) });
      expect(answer.status, JSON.stringify(id).slice(0, 20)).toBe(200);
      expect(answer.headers['x-request-id']).toBeUndefined();
      expect(answer.json().id).toBe(id);
      expectVectorsClose(Float32Array.from(answer.json().results[0]), expected, encoder.dimension, 1e-5, 'vectors');
    }
  });

  it('node http (16 KB header limit) reads the answer to a 100 KB id; binary answers too', async () => {
    const id = 'y'.repeat(100_000);
    const answer = await request(plain.socket, 'POST', '/encode', JSON.stringify({ id, texts: [text] }));
    expect(answer.status).toBe(200);
    expect(answer.json().id).toBe(id);
    const binary = await request(plain.socket, 'POST', '/encode', JSON.stringify({ id: '中文-id', texts: [text] }), { accept: 'application/octet-stream' });
    expect(binary.status).toBe(200);
    expect(binary.headers['x-request-id']).toBeUndefined();
    expect(binary.headers['x-embedding-shape']).toBe(`1,${encoder.dimension}`);
  });

  it('a short visible-ASCII id, string or number, is also in X-Request-Id', async () => {
    for (const [id, header] of [['req-42', 'req-42'], [7, '7'], ['z'.repeat(128), 'z'.repeat(128)]] as const) {
      const answer = await curl(plain, '/encode', { body: JSON.stringify({ id, texts: [text] }) });
      expect(answer.status).toBe(200);
      expect(answer.headers['x-request-id']).toBe(header);
      expect(answer.json().id).toBe(id);
    }
    const tooLong = await curl(plain, '/encode', { body: JSON.stringify({ id: 'z'.repeat(129), texts: [text] }) });
    expect(tooLong.headers['x-request-id']).toBeUndefined();
  });
});

describe("finding 2: /embed and /v1/embeddings encode ' ||| ' as written, /encode keeps pairs", () => {
  const text = 'A man is playing a flute. ||| A man plays the flute.';

  it('each API gets the vector of its own rule', async () => {
    // The text as written, one sequence: its word pieces, '|||' among them, looked up as they are.
    const pieces = encoder.tokenizer.encode(text, undefined, { splitPairs: false }).tokens.slice(1, -1);
    expect(pieces).toContain('|');
    const asWritten = (await encoder.encode([pieces], { isTokenized: true, normalize: true })).data;
    const asPair = (await encoder.encode([text], { normalize: true })).data;
    // The two readings differ, so the comparisons below tell them apart.
    expect(norm(asWritten.map((value, i) => value - asPair[i]))).toBeGreaterThan(0.05);

    const embed = await curl(plain, '/embed', { body: JSON.stringify({ inputs: [text] }) });
    expect(embed.status).toBe(200);
    expectVectorsClose(Float32Array.from(embed.json()[0]), asWritten, encoder.dimension, 1e-5, '/embed');

    const openai = new OpenAI({ baseURL: `http://127.0.0.1:${plain.port}/v1`, apiKey: 'unused', maxRetries: 0 });
    const created = await openai.embeddings.create({ model: 'tiny', input: [text], encoding_format: 'float' });
    expectVectorsClose(Float32Array.from(created.data[0].embedding), asWritten, encoder.dimension, 1e-5, '/v1/embeddings');
    const tokens = encoder.tokenizer.encode(text, undefined, { splitPairs: false }).ids.length;
    expect(tokens).toBe(encoder.tokenizer.encode(text).ids.length + 2); // '|||' is three tokens, in place of one [SEP]
    expect(created.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });

    const encode = await curl(plain, '/encode', { body: JSON.stringify({ texts: [text] }) });
    expectVectorsClose(Float32Array.from(encode.json().results[0]), (await encoder.encode([text])).data, encoder.dimension, 1e-5, '/encode');

    // Encoder.encode's splitPairs: false, which the two routes use, is the same reading.
    expectVectorsClose((await encoder.encode([text], { splitPairs: false, normalize: true })).data, asWritten, encoder.dimension, 1e-6, 'splitPairs: false');
    await expect(encoder.encode([text], { splitPairs: 'no' as unknown as boolean })).rejects.toThrow('Expected boolean for splitPairs but received "no" of type string');
  });

  it("/embed's length check counts the text as written", async () => {
    // 31 tokens as a pair ([CLS] a [SEP] b [SEP]), 33 as written: too long without truncate.
    const words = 'word '.repeat(14).trim();
    const long = `${words} ||| ${words}`;
    expect(encoder.tokenizer.encode(long).ids.length).toBeLessThanOrEqual(MAX_SEQ_LEN);
    const answer = await curl(plain, '/embed', { body: JSON.stringify({ inputs: [long] }) });
    expect(answer.status).toBe(422);
    expect(answer.json()).toEqual({ code: 'ERR_INPUT_TOO_LONG', error: `inputs[0] has 33 tokens, more than maxSeqLen ${MAX_SEQ_LEN}; send "truncate": true to cut it` });
  });
});

describe('finding 8: a request larger than --max-queued is refused for good (413), not "retry later"', () => {
  const six = ['one', 'two', 'three', 'four', 'five', 'six'];
  const limitMessage = (field: string, received: string) =>
    `Expected at most ${MAX_QUEUED} queued sentences in one request (the server's --max-queued) for ${field} but received ${received}; split the request`;

  it('/encode, /embed, /v1/embeddings, /embed_sparse, /fill-mask on an idle server', async () => {
    const cases: [string, unknown, string][] = [
      ['/encode', { texts: six }, 'texts'],
      ['/embed', { inputs: six }, 'inputs'],
      ['/v1/embeddings', { input: six }, 'input'],
      ['/embed_sparse', { inputs: six }, 'inputs'],
      ['/fill-mask', { inputs: six.map((word) => `${word} [MASK]`) }, 'inputs'],
    ];
    for (const [urlPath, body, field] of cases) {
      expect(encoder.status().outstandingSentences).toBe(0);
      const answer = await curl(plain, urlPath, { body: JSON.stringify(body) });
      expect(answer.status, urlPath).toBe(413);
      expect(answer.json()).toEqual({ code: 'ERR_TOO_MANY_SENTENCES', error: limitMessage(field, '6 sentences') });
    }
    // The limit itself fits.
    expect((await curl(plain, '/embed', { body: JSON.stringify({ inputs: six.slice(0, MAX_QUEUED) }) })).status).toBe(200);
    // The openai SDK sees an error it does not retry.
    const openai = new OpenAI({ baseURL: `http://127.0.0.1:${plain.port}/v1`, apiKey: 'unused', maxRetries: 3 });
    await expect(openai.embeddings.create({ model: 'tiny', input: six })).rejects.toMatchObject({ status: 413 });
  });

  it('/score counts its masked copies; TF Serving :predict its rows', async () => {
    const sentence = 'the cat sat on the mat today';
    const copies = encoder.tokenizer.encode(sentence).ids.length - 2;
    const score = await curl(plain, '/score', { body: JSON.stringify({ inputs: [sentence] }) });
    expect(score.status).toBe(413);
    expect(score.json()).toEqual({ code: 'ERR_TOO_MANY_SENTENCES', error: limitMessage('inputs', `${copies} masked copies of 1 input(s) (one per scored token or word)`) });
    expect((await curl(plain, '/score', { body: JSON.stringify({ inputs: ['the cat'] }) })).status).toBe(200);

    const row = { input_ids: [2, 5, 3], input_mask: [1, 1, 1], segment_ids: [0, 0, 0], masked_lm_positions: [1], masked_lm_ids: [5] };
    const predict = await curl(plain, '/v1/models/mlm-tiny:predict', { body: JSON.stringify({ instances: new Array(6).fill(row) }) });
    expect(predict.status).toBe(413);
    expect(predict.json()).toEqual({ error: limitMessage('instances', '6 rows') });
  });
});

describe('finding 9: /v1/embeddings answers unit vectors, with or without dimensions', () => {
  it('absent, the full width and fewer dimensions: norm 1, OpenAI-shortened', async () => {
    const texts = ['The quick brown fox jumps over the lazy dog.', 'short'];
    const unit = (await encoder.encode(texts, { normalize: true })).data;
    const openai = new OpenAI({ baseURL: `http://127.0.0.1:${plain.port}/v1`, apiKey: 'unused', maxRetries: 0 });
    for (const dimensions of [undefined, encoder.dimension]) {
      // 'float', and the SDK's default: it asks for base64 and decodes it itself
      for (const encodingFormat of ['float', undefined] as const) {
        const created = await openai.embeddings.create({ model: 'tiny', input: texts, ...(encodingFormat ? { encoding_format: encodingFormat } : {}), ...(dimensions ? { dimensions } : {}) });
        for (const { embedding } of created.data) expect(Math.abs(norm(embedding) - 1)).toBeLessThan(1e-5);
        expectVectorsClose(Float32Array.from(created.data.flatMap((d) => d.embedding)), unit, encoder.dimension, 1e-5, `dimensions ${dimensions}, ${encodingFormat}`);
      }
    }
    const short = await openai.embeddings.create({ model: 'tiny', input: texts, dimensions: 16, encoding_format: 'float' });
    short.data.forEach(({ embedding }, i) => {
      const first = unit.subarray(i * encoder.dimension, i * encoder.dimension + 16);
      expect(Math.abs(norm(embedding) - 1)).toBeLessThan(1e-5);
      expectVectorsClose(Float32Array.from(embedding), first.map((value) => value / norm(first)), 16, 1e-5, 'dimensions 16');
    });
  });
});

describe('finding 11: slow bodies, slow headers, unknown transfer codings', () => {
  it('a body trickled at 10 bytes a second is cut after --request-timeout 1 with 408, and the connection closed', async () => {
    const body = JSON.stringify({ inputs: ['trickled'] });
    let timer: NodeJS.Timeout | undefined;
    const result = await rawExchange(plain.port, (socket) => {
      socket.write(`POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
      let sent = 0;
      timer = setInterval(() => {
        if (sent < body.length && !socket.destroyed) socket.write(body[sent++]);
      }, 100);
    });
    clearInterval(timer);
    expect(statusOf(result.text)).toBe(408);
    expect(result.text).toMatch(/\r\nconnection: close\r\n/i);
    const answer = jsonBodyOf(result.text);
    expect(answer.code).toBe('ERR_REQUEST_TIMEOUT');
    expect(answer.error).toMatch(new RegExp(`^Expected the whole body within 1 s \\(--request-timeout\\) but received \\d+ of ${body.length} bytes$`));
    expect(result.closed).toBe(true);
    expect(result.ms).toBeGreaterThanOrEqual(900);
    expect(result.ms).toBeLessThan(5000);
  });

  it('headers trickled past --request-timeout get 408 too; the default is 60 s', async () => {
    let timer: NodeJS.Timeout | undefined;
    const result = await rawExchange(plain.port, (socket) => {
      socket.write('POST /embed HTTP/1.1\r\nHost: x\r\n');
      timer = setInterval(() => !socket.destroyed && socket.write('X'), 100);
    });
    clearInterval(timer);
    expect(statusOf(result.text)).toBe(408);
    expect(result.closed).toBe(true);
    expect(result.ms).toBeLessThan(5000);
    const { stdout } = await execFileAsync(process.execPath, [BIN, 'serve', '--help']);
    expect(stdout).toMatch(/--request-timeout <seconds>[\s\S]*?\(default:\s+60\)/);
  });

  it("'Transfer-Encoding: gzip, chunked' is 501 (RFC 9112), plain chunked is read", async () => {
    const chunk = Buffer.from(JSON.stringify({ inputs: ['x'] }));
    const chunked = (coding: string, close = '') => (socket: net.Socket) => {
      socket.write(`POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: ${coding}\r\n${close}\r\n`);
      socket.write(`${chunk.length.toString(16)}\r\n${chunk.toString()}\r\n0\r\n\r\n`);
    };
    for (const coding of ['gzip, chunked', 'deflate,chunked']) {
      const refused = await rawExchange(plain.port, chunked(coding));
      expect(statusOf(refused.text), coding).toBe(501);
      expect(jsonBodyOf(refused.text)).toEqual({ code: 'ERR_TRANSFER_CODING', error: `Expected "chunked" alone (send the body uncompressed) for Transfer-Encoding but received "${coding}" of type string` });
      expect(refused.closed).toBe(true);
    }
    const read = await rawExchange(plain.port, chunked('chunked', 'Connection: close\r\n'));
    expect(statusOf(read.text)).toBe(200);
    // Still serving.
    expect((await curl(plain, '/embed', { body: '{"inputs":"after"}' })).status).toBe(200);
  });
});

describe('--api-key', () => {
  const bearer = `authorization: Bearer ${KEY}`;

  it('every endpoint but /health answers 401 with WWW-Authenticate without the key', async () => {
    expect((await curl(guarded, '/health')).status).toBe(200);
    const cases: [string, string | undefined, (json: any) => void][] = [
      ['/embed', '{"inputs":"x"}', (json) => expect(json.code).toBe('ERR_UNAUTHORIZED')],
      ['/status', undefined, (json) => expect(json.code).toBe('ERR_UNAUTHORIZED')],
      ['/metrics', undefined, (json) => expect(json.code).toBe('ERR_UNAUTHORIZED')],
      ['/nowhere', undefined, (json) => expect(json.code).toBe('ERR_UNAUTHORIZED')],
      // TF Serving's paths answer in its shape
      ['/v1/models/mlm-tiny/metadata', undefined, (json) => expect(json.error).toMatch(/Authorization: Bearer/)],
    ];
    for (const [urlPath, body, check] of cases) {
      const answer = await curl(guarded, urlPath, { body });
      expect(answer.status, urlPath).toBe(401);
      expect(answer.headers['www-authenticate']).toBe('Bearer realm="bert-embed"');
      check(answer.json());
    }
    const missing = await curl(guarded, '/embed', { body: '{"inputs":"x"}' });
    expect(missing.json().error).toBe("Expected an Authorization: Bearer <key> header with the server's key (--api-key) but received none");
    for (const [header, received] of [
      [`authorization: Bearer ${KEY}x`, 'a key that does not match'],
      [`authorization: Bearer ${KEY.slice(0, -1)}`, 'a key that does not match'],
      [`authorization: Basic ${Buffer.from(`u:${KEY}`).toString('base64')}`, 'another scheme'],
    ]) {
      const wrong = await curl(guarded, '/embed', { body: '{"inputs":"x"}', headers: [header] });
      expect(wrong.status).toBe(401);
      expect(wrong.headers['www-authenticate']).toBe('Bearer realm="bert-embed", error="invalid_token"');
      expect(wrong.json().error).toMatch(new RegExp(`but received ${received}$`));
      expect(wrong.body).not.toContain(KEY);
    }
  });

  it('with the key: curl over TCP and the UNIX socket, the openai SDK, BertClient', async () => {
    const expected = (await encoder.encode(['hello'], { normalize: true })).data;
    const tcp = await curl(guarded, '/embed', { body: '{"inputs":["hello"]}', headers: [bearer] });
    expect(tcp.status).toBe(200);
    expectVectorsClose(Float32Array.from(tcp.json()[0]), expected, encoder.dimension, 1e-5, 'curl tcp');
    expect((await curl(guarded, '/embed', { body: '{"inputs":["hello"]}', socket: true })).status).toBe(401);
    expect((await curl(guarded, '/embed', { body: '{"inputs":["hello"]}', headers: [bearer.replace('Bearer', 'bearer')], socket: true })).status).toBe(200);

    const openai = new OpenAI({ baseURL: `http://127.0.0.1:${guarded.port}/v1`, apiKey: KEY, maxRetries: 0 });
    const created = await openai.embeddings.create({ model: 'tiny', input: ['hello'] });
    expectVectorsClose(Float32Array.from(created.data[0].embedding), expected, encoder.dimension, 1e-5, 'openai');
    const stranger = new OpenAI({ baseURL: `http://127.0.0.1:${guarded.port}/v1`, apiKey: 'sk-wrong', maxRetries: 0 });
    await expect(stranger.embeddings.create({ model: 'tiny', input: ['hello'] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);

    const client = new BertClient({ socket: guarded.socket }, { apiKey: KEY });
    const keyless = new BertClient({ port: guarded.port, host: '127.0.0.1' });
    try {
      expectVectorsClose((await client.encode(['hello'])).data, (await encoder.encode(['hello'])).data, encoder.dimension, 1e-6, 'BertClient');
      expect(await client.status()).toMatchObject({ state: 'ready' });
      await expect(keyless.encode(['hello'])).rejects.toMatchObject({ code: 'ERR_UNAUTHORIZED', status: 401 });
      // bert-embed status takes the key from BERT_EMBED_API_KEY (or --api-key)
      const status = await execFileAsync(process.execPath, [BIN, 'status', '--socket', guarded.socket], { env: { ...withoutKey(), BERT_EMBED_API_KEY: KEY } });
      expect(JSON.parse(status.stdout)).toMatchObject({ state: 'ready' });
      const refused = await execFileAsync(process.execPath, [BIN, 'status', '--socket', guarded.socket], { env: withoutKey() }).catch((error) => error);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/401|Bearer/);
    } finally {
      client.close();
      keyless.close();
    }
  });

  it('the UNIX socket stays 0600, and the key is not logged', () => {
    expect(fs.statSync(guarded.socket).mode & 0o777).toBe(0o600);
    expect(fs.statSync(plain.socket).mode & 0o777).toBe(0o600);
    expect(guarded.stderr()).toContain('(API key required)');
    expect(guarded.stderr()).not.toContain(KEY);
  });

  it('TCP beyond loopback without a key refuses to start (exit 2) unless --allow-unauthenticated', async () => {
    const refused = spawn(process.execPath, [BIN, 'serve', '-m', MODEL, '--port', '0', '--host', '0.0.0.0'], { env: withoutKey() });
    let stderr = '';
    refused.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => refused.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/--host 0\.0\.0\.0 would let any machine .* without a key; set --api-key \(or BERT_EMBED_API_KEY\), or pass --allow-unauthenticated/);
    expect(stderr).not.toContain('listening');

    const allowed = await serve('allowed', ['--host', '0.0.0.0', '--allow-unauthenticated'], {}, 'listening on');
    await stop(allowed);
    // The flag as well as the variable; loopback needs neither.
    const keyed = await serve('keyed', ['--host', '0.0.0.0', '--api-key', KEY]);
    try {
      expect((await curl(keyed, '/embed', { body: '{"inputs":"x"}', headers: [bearer] })).status).toBe(200);
      expect((await curl(keyed, '/embed', { body: '{"inputs":"x"}' })).status).toBe(401);
    } finally {
      await stop(keyed);
    }
    const badKey = await execFileAsync(process.execPath, [BIN, 'serve', '-m', MODEL, '--port', '0', '--api-key', 'has space'], { env: withoutKey() }).catch((error) => error);
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toMatch(/Expected non-empty string of visible ASCII characters without spaces for --api-key \(or BERT_EMBED_API_KEY\) but received a string of 9 characters/);
    expect(badKey.stderr).not.toContain('has space');
  });
});

describe('--cors', () => {
  const preflight = (origin: string) => [`origin: ${origin}`, 'access-control-request-method: POST', 'access-control-request-headers: authorization,content-type'];

  it('answers preflights from the allowed origin without the key; its requests carry the CORS headers', async () => {
    const answer = await curl(guarded, '/v1/embeddings', { method: 'OPTIONS', headers: preflight(ORIGIN) });
    expect(answer.status).toBe(204);
    expect(answer.headers).toMatchObject({
      'access-control-allow-origin': ORIGIN,
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': 'authorization,content-type',
      'access-control-max-age': '600',
      vary: 'Origin',
    });
    const posted = await curl(guarded, '/v1/embeddings', { body: '{"input":"x"}', headers: [`origin: ${ORIGIN}`, `authorization: Bearer ${KEY}`] });
    expect(posted.status).toBe(200);
    expect(posted.headers).toMatchObject({ 'access-control-allow-origin': ORIGIN, vary: 'Origin', 'access-control-expose-headers': 'X-Request-Id, X-Embedding-Shape' });
    // A 401 is readable by the page too.
    const unauthorized = await curl(guarded, '/v1/embeddings', { body: '{"input":"x"}', headers: [`origin: ${ORIGIN}`] });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers['access-control-allow-origin']).toBe(ORIGIN);
  });

  it('another origin gets no CORS headers, and 403 for its preflight', async () => {
    const evil = 'https://evil.example';
    const refused = await curl(guarded, '/v1/embeddings', { method: 'OPTIONS', headers: preflight(evil) });
    expect(refused.status).toBe(403);
    expect(refused.json()).toEqual({ code: 'ERR_CORS_ORIGIN', error: `Expected an origin allowed by --cors for Origin but received "${evil}" of type string` });
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    const posted = await curl(guarded, '/embed', { body: '{"inputs":"x"}', headers: [`origin: ${evil}`, `authorization: Bearer ${KEY}`] });
    expect(posted.status).toBe(200);
    expect(posted.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('off by default: no CORS headers, OPTIONS is 405', async () => {
    const options = await curl(plain, '/embed', { method: 'OPTIONS', headers: preflight(ORIGIN) });
    expect(options.status).toBe(405);
    expect(options.headers['access-control-allow-origin']).toBeUndefined();
    const posted = await curl(plain, '/embed', { body: '{"inputs":"x"}', headers: [`origin: ${ORIGIN}`] });
    expect(posted.status).toBe(200);
    expect(posted.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('an origin that is not one is a usage error (exit 2)', async () => {
    const failed = await execFileAsync(process.execPath, [BIN, 'serve', '-m', MODEL, '--port', '0', '--cors', 'app.example/path'], { env: withoutKey() }).catch((error) => error);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toMatch(/Expected "\*" or a comma-separated list of origins such as https:\/\/app\.example\.com for --cors but received "app\.example\/path"/);
  });
});
