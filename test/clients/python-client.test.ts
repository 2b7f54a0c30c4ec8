// The Python client (clients/python, pip-installed into .venv by `npm run setup`) against a real
// `bert-embed serve`, over TCP and the UNIX socket: bert-as-service's own README examples (and its
// example2.py) with only the import line and the connection arguments changed, every array checked
// against the Node API's vectors for the same model and options; then its failures: no server, a
// server that never answers, tokens the server does not show, bad arguments.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Encoder } from '../../lib/index.js';
import { BIN } from '../cli/run-cli.js';
import { checkpointDir } from '../helpers/checkpoints.js';
import { expectVectorsClose } from '../helpers/compare.js';
import { stsSentences } from '../helpers/sts.js';
import { VENV_PYTHON } from '../reference/hf-mlm.js';
import { float32OfBase64, runClientScript } from '../helpers/python-client.js';
import { repoRoot } from '../reference/helpers.js';

const execFileAsync = promisify(execFile);
const MODEL = checkpointDir('tiny');
const MAX_SEQ_LEN = 32;
const SCRIPTS = path.join(repoRoot, 'test', 'clients');
const CLIENT_DIR = path.join(repoRoot, 'clients', 'python');
/** bert-as-service's README prints these tokens for its show_tokens examples; bert-tiny's vocabulary is BERT's. */
const README_TOKENS = [
  ['[CLS]', 'hello', 'world', '!', '[SEP]'],
  ['[CLS]', 'this', '##is', 'it', '[SEP]'],
];
const README_TOKENIZED_TOKENS = [
  ['[CLS]', 'hello', '[UNK]', '[SEP]'],
  ['[CLS]', '[UNK]', 'it', '[SEP]'],
];
const sentences = stsSentences('dev').slice(0, 16);

interface Served {
  child: ChildProcess;
  socket: string;
  port: number;
  exited: Promise<number | null>;
}

let dir: string;
let encoder: Encoder;
/** with --show-tokens-to-client */
let showing: Served;
/** without it, as bert-as-service's default, and with other options than the defaults for /status/server to show */
let plain: Served;
const PLAIN_FLAGS = ['--num-worker', '2', '--max-batch-size', '8', '--priority-batch-size', '4', '--cors', 'https://app.example'];
const served: Served[] = [];

async function serve(name: string, args: string[]): Promise<Served> {
  const socket = path.join(dir, `${name}.sock`);
  const child = spawn(process.execPath, [BIN, 'serve', '-m', MODEL, '--socket', socket, '--port', '0', '--max-seq-len', String(MAX_SEQ_LEN), ...args]);
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!stderr.includes('ready:') && child.exitCode === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  if (!stderr.includes('ready:')) throw new Error(`bert-embed serve ${args.join(' ')} did not start:\n${stderr}`);
  const started = { child, socket, port: Number(/http:\/\/[^ ;]+:(\d+)/.exec(stderr)![1]), exited };
  served.push(started);
  return started;
}

/** Runs a script of test/clients with .venv's Python, outside the repository (the package must come from pip). */
function python(script: string, args: unknown): Promise<any> {
  return runClientScript(path.join(SCRIPTS, script), [JSON.stringify(args)]);
}

function float32Of(value: { shape: number[]; float32: string }): { data: Float32Array; shape: number[] } {
  return { data: float32OfBase64(value), shape: value.shape };
}

async function expected(texts: string[] | string[][], options: { isTokenized?: boolean } = {}): Promise<Float32Array> {
  return (await encoder.encode(texts, options)).data;
}

/** The vectors of readme_examples.py's `batches`: the sentences 20 times over, then once more in threes. */
async function inBatchOrder(): Promise<Float32Array> {
  const once = await expected(sentences);
  const all = new Float32Array(once.length * 21);
  for (let i = 0; i < 21; i++) all.set(once, i * once.length);
  return all;
}

/** Asserts a recorded array has `rows` rows of the model's width and the Node API's vectors. */
function expectArray(recorded: any, reference: Float32Array, rows: number, label: string): void {
  const { data, shape } = float32Of(recorded);
  expect(shape, label).toEqual([rows, encoder.dimension]);
  expect(recorded.dtype, label).toBe('float32');
  expectVectorsClose(data, reference, encoder.dimension, 1e-6, label);
}

/** A free TCP port: one that was just listened on and closed. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  if (!fs.existsSync(VENV_PYTHON)) throw new Error(`${VENV_PYTHON} does not exist: run \`npm run setup\` (scripts/setup.sh) to make the Python virtual environment`);
  const probe = 'import importlib.metadata as m, bert_embed; print(m.version("bert-embed-client")); print(bert_embed.__file__)';
  const installed = await execFileAsync(VENV_PYTHON, ['-c', probe], { cwd: os.tmpdir() }).catch((error: { stderr?: string }) => {
    throw new Error(`${VENV_PYTHON} has no bert-embed-client (clients/python): run \`npm run setup\` (${String(error.stderr).trim().split('\n').pop()})`);
  });
  const [version, file] = installed.stdout.trim().split('\n');
  expect(version).toBe(/^version = "(.+)"$/m.exec(fs.readFileSync(path.join(CLIENT_DIR, 'pyproject.toml'), 'utf8'))![1]);
  // setup installs it editable, so the tests run this checkout's client: the same files
  const sources = path.join(CLIENT_DIR, 'bert_embed');
  const stale = fs.readdirSync(sources).filter((name) => name.endsWith('.py') && fs.readFileSync(path.join(sources, name), 'utf8') !== fs.readFileSync(path.join(path.dirname(file), name), { encoding: 'utf8', flag: 'r' }));
  if (stale.length > 0) throw new Error(`.venv's bert_embed (${path.dirname(file)}) is not this checkout's clients/python (${stale.join(', ')} differ): run \`npm run setup\``);

  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'be-py-'));
  [showing, plain] = await Promise.all([serve('showing', ['--show-tokens-to-client']), serve('plain', PLAIN_FLAGS)]);
  encoder = await Encoder.load(MODEL, { maxSeqLen: MAX_SEQ_LEN });
});

afterAll(async () => {
  for (const server of served) server.child.kill('SIGTERM');
  await Promise.all(served.map((server) => server.exited));
  await encoder?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe.each([
  ['TCP', () => ({ port: showing.port })],
  ['the UNIX socket', () => ({ socket: showing.socket })],
])("bert-as-service's README examples over %s", (_transport, connection) => {
  let record: any;
  beforeAll(async () => {
    record = await python('readme_examples.py', { connection: connection(), sentences });
  });

  it('encode: sentences, a pair, and from another machine by ip', async () => {
    const three = ['First do it', 'then do it right', 'then do it better'];
    expectArray(record.getting_started, await expected(three), 3, 'getting started');
    expectArray(record.pair, await expected(['First do it ||| then do it right']), 1, 'pair');
    if ('port' in connection()) expectArray(record.remote, await expected(three), 3, 'remote');
  });

  it('is_tokenized, and show_tokens with the tokens the README prints', async () => {
    expect(record.tokenized_texts).toEqual([
      ['hello', 'world!'],
      ['good', 'day'],
    ]);
    expectArray(record.tokenized, await expected(record.tokenized_texts, { isTokenized: true }), 2, 'is_tokenized');
    expectArray(record.show_tokens, await expected(['hello world!', 'thisis it']), 2, 'show_tokens');
    expect(record.show_tokens_tokens).toEqual(README_TOKENS);
    expect(record.show_tokens_tokens).toEqual(encoder.tokenize(['hello world!', 'thisis it']).map((t) => t.tokens));
    const tokenized = [
      ['hello', 'world!'],
      ['thisis', 'it'],
    ];
    expectArray(record.show_tokens_tokenized, await expected(tokenized, { isTokenized: true }), 2, 'show_tokens is_tokenized');
    expect(record.show_tokens_tokenized_tokens).toEqual(README_TOKENIZED_TOKENS);
  });

  it('encode_async over a generator: the README loop as written, and batches in order', async () => {
    expect(record.encode_async_printed).toEqual(Array.from({ length: 10 }, () => `received ${sentences.length} x ${encoder.dimension}`));
    expectArray(record.encode_async_ordered, await inBatchOrder(), sentences.length * 21, 'encode_async order');
  });

  it("non-blocking encode: example2.py's fetch_all(concat=True) and fetch(), fetch_all in sending order", async () => {
    const once = await expected(sentences);
    const twenty = new Float32Array(once.length * 20);
    for (let i = 0; i < 20; i++) twenty.set(once, i * once.length);
    expectArray(record.fetch_all_concat, twenty, sentences.length * 20, 'fetch_all concat');
    const printed: string[] = record.example2_printed;
    expect(printed.slice(0, 4)).toEqual([
      'sending all data without blocking...',
      'all sent!',
      'now waiting until all results are available...',
      `received (${sentences.length * 20}, ${encoder.dimension}), expected: ${sentences.length * 20}`,
    ]);
    // the second round: 20 responses, each once, whatever their order
    const fetched = printed.slice(6).map((line) => /^received (\d+), shape \((\d+), (\d+)\)$/.exec(line));
    expect(fetched.every((match) => match && Number(match[2]) === sentences.length && Number(match[3]) === encoder.dimension), printed.join('\n')).toBe(true);
    expect(new Set(fetched.map((match) => match![1])).size).toBe(20);
    expectArray(record.fetch_all_sorted, await inBatchOrder(), sentences.length * 21, 'fetch_all sorted');
    expect(record.fetch_all_none_pending).toBeNull();
  });

  it('one client shared by 8 threads (the FAQ\'s "BAD example"), and ConcurrentBertClient', async () => {
    expect(record.threads_failures).toEqual([]);
    for (let index = 0; index < 8; index++) {
      const mine = sentences.filter((_, i) => i % 8 === index);
      const reference = await expected(mine);
      for (let round = 0; round < 5; round++) expectArray(record[`thread_${index}_${round}`], reference, mine.length, `thread ${index} round ${round}`);
    }
    // 40 encodes and the server_config request the constructor makes (bert-as-service counts both)
    expect(record.threads_status).toMatchObject({ num_request: 41, num_pending_request: 0, pending_request: [], output_fmt: 'ndarray', timeout: -1 });
    for (let index = 0; index < 6; index++) {
      const mine = sentences.filter((_, i) => i % 6 === index);
      expectArray(record[`concurrent_${index}`], await expected(mine), mine.length, `concurrent ${index}`);
    }
  });

  it("server_status and server_config: the server's real configuration and statistic", () => {
    const status = record.server_status;
    expect(status).toMatchObject({
      model_dir: MODEL,
      max_seq_len: MAX_SEQ_LEN,
      pooling_strategy: encoder.options.pooling,
      pooling_layer: encoder.options.layers,
      mask_cls_sep: false,
      show_tokens_to_client: true,
      num_worker: 1,
      device_map: ['cpu'],
      max_batch_size: encoder.options.maxBatchSize,
      priority_batch_size: encoder.options.priorityBatchSize,
      http_port: showing.port,
      socket: showing.socket,
      server_version: JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version,
    });
    expect(status.server_start_time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
    // nothing of TensorFlow or ZeroMQ is claimed
    expect(Object.keys(status).filter((key) => /tensorflow|zmq|python/.test(key))).toEqual([]);
    // every /encode request of this run so far was counted, with its sentences
    expect(status.statistic.num_data_request).toBeGreaterThanOrEqual(2 + 1 + 2 + 10 + 20 + 20 + 40 + 6);
    expect(status.statistic.max_size_per_request).toBe(sentences.length * 20);
    expect(status.statistic.min_size_per_request).toBe(1);
    const { statistic: _statistic, server_current_time: _now, ...config } = status;
    expect(record.server_config).not.toHaveProperty('statistic');
    expect({ ...record.server_config, server_current_time: undefined }).toEqual({ ...config, server_current_time: undefined });
  });

  it("output_fmt='list', the context manager, and check_length's warning", async () => {
    expect(record.list_type).toEqual(['list', 'list', 'float']);
    expectArray(record.list, await expected(['First do it', 'then do it right']), 2, 'output_fmt list');
    const long = ['word'.repeat(1) + ' word'.repeat(39)];
    expectArray(record.long_sentence, await expected(long), 1, 'long sentence');
    expect(record.long_sentence_warnings).toEqual([expect.stringContaining(`max_seq_len=${MAX_SEQ_LEN}`)]);
  });
});

describe("bert-as-service's HTTP proxy routes", () => {
  it("GET /status/server: the options the server runs with, bert-as-service's names", async () => {
    const status = await (await fetch(`http://127.0.0.1:${plain.port}/status/server`)).json();
    expect(status).toMatchObject({
      model_dir: MODEL,
      max_seq_len: MAX_SEQ_LEN,
      num_worker: 2,
      max_batch_size: 8,
      priority_batch_size: 4,
      cors: 'https://app.example',
      show_tokens_to_client: false,
      fixed_embed_length: false,
      no_special_token: false,
      do_lower_case: true,
      cpu: true,
      fp16: false,
      gpu_memory_fraction: null,
      http_port: plain.port,
      socket: plain.socket,
    });
    expect(status.statistic).toMatchObject({ num_sys_request: expect.any(Number), num_data_request: expect.any(Number) });
  });

  it('GET /status/client: the status dict of the proxy\'s BertClient, with the /encode requests in flight', async () => {
    const url = `http://127.0.0.1:${plain.port}`;
    const clientStatus = async (): Promise<any> => (await fetch(`${url}/status/client`)).json();
    const before = await clientStatus();
    const texts = Array.from({ length: 600 }, (_, i) => sentences[i % sentences.length]);
    const answered = fetch(`${url}/encode`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 7, texts }) });
    let during = await clientStatus();
    for (let poll = 0; poll < 200 && during.num_pending_request === 0; poll++) during = await clientStatus();
    expect((await answered).status).toBe(200);
    const after = await clientStatus();
    // bert-as-service's BertClient.status keys, and the socket
    const keys = ['identity', 'num_request', 'num_pending_request', 'pending_request', 'output_fmt', 'port', 'port_out', 'server_ip', 'client_version', 'timeout', 'socket'];
    expect(Object.keys(during).sort()).toEqual(keys.sort());
    expect(during).toMatchObject({ num_pending_request: 1, output_fmt: 'list', port: plain.port, port_out: plain.port, server_ip: '127.0.0.1', socket: plain.socket, timeout: -1, identity: before.identity });
    expect(during.pending_request).toHaveLength(1);
    expect(after).toMatchObject({ num_pending_request: 0, pending_request: [] });
    // the status requests count, as bert-as-service's SHOW_STATUS did, and the /encode once answered
    expect(after.num_request).toBeGreaterThanOrEqual(before.num_request + 3);
  });
});

describe('failures', () => {
  it.each([
    ['TCP', async () => ({ port: await closedPort() })],
    ['the UNIX socket', async () => ({ socket: path.join(dir, 'nobody.sock') })],
  ])('no server on %s: ServerConnectionError (a ConnectionError) at once, whatever the timeout', async (_transport, connection) => {
    const outcome = await python('client_errors.py', { scenario: 'no_server', connection: await connection() });
    for (const attempt of ['construct', 'construct_timeout', 'encode_unchecked']) {
      expect(outcome[attempt].classes, attempt).toEqual(expect.arrayContaining(['ServerConnectionError', 'BertEmbedError', 'ConnectionError']));
      expect(outcome[attempt].code).toBe('ERR_CONNECTION');
      expect(outcome[attempt].message).toMatch(/cannot connect to a bert-embed server at .*: is `bert-embed serve` running there\?/);
      expect(outcome[attempt].seconds).toBeLessThan(1);
    }
  });

  it.each(['TCP', 'the UNIX socket'])('a server on %s that accepts and never answers: ServerTimeoutError (a TimeoutError) after `timeout` ms', async (transport) => {
    const held: net.Socket[] = [];
    const silent = net.createServer((socket) => held.push(socket));
    const socketPath = path.join(dir, 'silent.sock');
    await new Promise<void>((resolve) => (transport === 'TCP' ? silent.listen(0, '127.0.0.1', resolve) : silent.listen(socketPath, resolve)));
    try {
      const connection = transport === 'TCP' ? { port: (silent.address() as net.AddressInfo).port } : { socket: socketPath };
      const outcome = await python('client_errors.py', { scenario: 'hanging', connection, timeout: 700 });
      for (const attempt of ['construct', 'encode_unchecked']) {
        expect(outcome[attempt].classes, attempt).toEqual(expect.arrayContaining(['ServerTimeoutError', 'BertEmbedError', 'TimeoutError']));
        expect(outcome[attempt].code).toBe('ERR_TIMEOUT');
        expect(outcome[attempt].message).toContain('within timeout=700 ms');
        expect(outcome[attempt].seconds).toBeGreaterThanOrEqual(0.69);
        expect(outcome[attempt].seconds).toBeLessThan(2);
      }
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('show_tokens on a server without --show-tokens-to-client: a warning and the embedding (bert-as-service), or the server\'s 403 unchecked', async () => {
    const outcome = await python('client_errors.py', { scenario: 'tokens_refused', connection: { socket: plain.socket } });
    expect(outcome.checked_type).toBe('ndarray');
    const { data } = float32Of(outcome.checked);
    expectVectorsClose(data, await expected(['hello world!', 'thisis it']), encoder.dimension, 1e-6, 'embedding without tokens');
    expect(outcome.checked_warnings).toEqual([expect.stringContaining('--show-tokens-to-client')]);
    expect(outcome.unchecked).toMatchObject({ code: 'ERR_TOKENS_NOT_ALLOWED', status: 403 });
    expect(outcome.unchecked.classes).toContain(outcome.server_error_class);
    expect(outcome.unchecked.message).toContain('--show-tokens-to-client');
  });

  it("a client idle past the server's keep-alive timeout (Node's 5 s, closed a moment later) encodes again on a fresh connection", async () => {
    const outcome = await python('client_errors.py', { scenario: 'idle', connection: { port: plain.port }, seconds: 7 });
    const reference = await expected(['hello world!']);
    expectVectorsClose(float32Of(outcome.before).data, reference, encoder.dimension, 1e-6, 'before');
    expectVectorsClose(float32Of(outcome.after).data, reference, encoder.dimension, 1e-6, 'after');
  });

  it('bad arguments: TypeError or ValueError naming the argument, what was expected and received', async () => {
    const outcome = await python('client_errors.py', { scenario: 'validation', connection: { port: plain.port } });
    const expectations: [string, string, string][] = [
      ['not_a_list', 'TypeError', "Expected a non-empty list of strings for texts but received 'First do it' of type str"],
      ['empty_list', 'ValueError', 'Expected a non-empty list of strings for texts but received [] of type list'],
      ['not_a_string', 'TypeError', 'Expected a string for texts[1] but received 3 of type int'],
      ['blank_string', 'ValueError', "Expected a non-empty string for texts[1] but received '  ' of type str"],
      ['tokenized_not_lists', 'TypeError', "Expected a non-empty list of strings (is_tokenized=True) for texts[0] but received 'hello' of type str"],
      ['tokenized_empty_tokens', 'ValueError', 'Expected a non-empty list of strings (is_tokenized=True) for texts[1] but received [] of type list'],
      ['output_fmt', 'ValueError', "Expected 'ndarray' or 'list' for output_fmt but received 'tensor' of type str"],
      ['timeout', 'ValueError', 'Expected milliseconds > 0, or -1 to wait forever for timeout but received 0 of type int'],
      ['max_concurrency', 'ValueError', 'Expected a positive integer for max_concurrency but received 0 of type int'],
      ['closed', 'BertEmbedError', 'the client is closed'],
    ];
    for (const [call, kind, message] of expectations) {
      expect(outcome[call].classes[0], call).toBe(kind);
      expect(outcome[call].message, call).toBe(message);
    }
  });
});
