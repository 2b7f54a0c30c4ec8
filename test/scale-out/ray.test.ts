// bert_embed.ray.BertEmbedder (clients/python) in Ray Data, run by .venv's Python against this
// checkout's `bert-embed serve` (BERT_EMBED_BIN), every vector checked against the in-process Node
// API's for the same model and options. First without a cluster (ray_embedder.py: batch formats,
// attaching, the server's lifetime, a server that never comes up), then ray_pipeline.py on a local
// two-node Ray cluster (ray.cluster_utils.Cluster, all on loopback): a map_batches job whose actor is
// SIGKILLed mid-run must still give every row once, with the in-process vectors, and leave no server;
// a job whose server cannot start must fail saying why.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
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
import { repoRoot } from '../reference/helpers.js';

const execFileAsync = promisify(execFile);
const MODEL = checkpointDir('tiny');
const MAX_SEQ_LEN = 32;
const POOLING = 'CLS_TOKEN';
const SCRIPTS = path.join(repoRoot, 'test', 'scale-out');
const sentences = stsSentences('dev').filter((text) => text.trim() !== '').slice(0, 300);
const few = sentences.slice(0, 40);
/** ray_embedder.py's batch larger than one request (bert_embed.ray sends at most 512 sentences a request) */
const LARGE_BATCH_ROWS = 1100;

interface Float32Record {
  shape: number[];
  dtype?: string;
  float32: string;
}

let dir: string;
let encoder: Encoder;

function float32Of(record: Float32Record): Float32Array {
  const bytes = Buffer.from(record.float32, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

async function reference(texts: string[], options: { pooling?: typeof POOLING; normalize?: boolean } = {}): Promise<Float32Array> {
  return (await encoder.encode(texts, options)).data;
}

/** Runs a script of test/scale-out with .venv's Python, outside the repository (bert_embed comes from pip), with a config file. */
async function python(script: string, config: Record<string, unknown>, timeoutMs: number): Promise<string> {
  const configFile = path.join(dir, `${path.basename(script, '.py')}.json`);
  fs.writeFileSync(configFile, JSON.stringify(config));
  const env: NodeJS.ProcessEnv = { ...process.env, BERT_EMBED_BIN: BIN };
  delete env.PYTHONPATH;
  const { stdout } = await execFileAsync(VENV_PYTHON, [path.join(SCRIPTS, script), configFile], { cwd: os.tmpdir(), env, timeout: timeoutMs, maxBuffer: 256 << 20 });
  return stdout;
}

/** Rows that came back in any order, put in id order: each id must come exactly once. */
function byId(run: { ids: number[]; embedding: Float32Record }, rows: number): Float32Array {
  expect([...run.ids].sort((a, b) => a - b)).toEqual(Array.from({ length: rows }, (_, i) => i));
  const width = run.embedding.shape[1];
  const vectors = float32Of(run.embedding);
  const ordered = new Float32Array(vectors.length);
  run.ids.forEach((id, row) => ordered.set(vectors.subarray(row * width, (row + 1) * width), id * width));
  return ordered;
}

beforeAll(async () => {
  if (!fs.existsSync(VENV_PYTHON)) throw new Error(`${VENV_PYTHON} does not exist: run \`npm run setup\` (scripts/setup.sh) to make the Python virtual environment`);
  await execFileAsync(VENV_PYTHON, ['-c', 'import ray.data, bert_embed.ray'], { cwd: os.tmpdir() }).catch((error: { stderr?: string }) => {
    throw new Error(`${VENV_PYTHON} lacks ray[data] or bert_embed.ray: run \`npm run setup\` (${String(error.stderr).trim().split('\n').pop()})`);
  });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'be-ray-'));
  encoder = await Encoder.load(MODEL, { maxSeqLen: MAX_SEQ_LEN });
});

afterAll(async () => {
  await encoder?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it('import bert_embed does not import ray (ray is optional)', async () => {
  const { stdout } = await execFileAsync(VENV_PYTHON, ['-c', "import sys, bert_embed; print('ray' in sys.modules)"], { cwd: os.tmpdir() });
  expect(stdout.trim()).toBe('False');
});

describe('BertEmbedder without a cluster', () => {
  let record: any;
  beforeAll(async () => {
    record = JSON.parse(await python('ray_embedder.py', { model: MODEL, sentences: few, max_seq_len: MAX_SEQ_LEN }, 120_000));
  }, 150_000);

  it.each(['numpy', 'pandas', 'pyarrow'])("batch_format %s: an 'embedding' column of float32 rows, every other column as it was", async (format) => {
    const run = record.formats[format];
    expect(run.columns).toEqual(['embedding', 'id', 'source', 'text']);
    expect(run.ids).toEqual(few.map((_, i) => i));
    expect(run.sources).toEqual(few.map((_, i) => `sts-dev:${i}`));
    expect(run.embedding.shape).toEqual([few.length, encoder.dimension]);
    expect(run.embedding.dtype).toBe('float32');
    expectVectorsClose(float32Of(run.embedding), await reference(few), encoder.dimension, 1e-6, format);
  });

  it('a batch larger than one request, and empty batches (also as the first one)', async () => {
    const texts = Array.from({ length: LARGE_BATCH_ROWS }, (_, i) => few[i % few.length]);
    expect(record.formats.large.shape).toEqual([LARGE_BATCH_ROWS, encoder.dimension]);
    expectVectorsClose(float32Of(record.formats.large), await reference(texts), encoder.dimension, 1e-6, 'large');
    expect(record.formats.empty_shape).toEqual([0, encoder.dimension]);
    expect(record.closed.empty_first_shape).toEqual([0, encoder.dimension]);
  });

  it('socket=: attaches to a running server, starts none, and leaves it running when closed', async () => {
    expect(record.attached.server_pid).toBeNull();
    expectVectorsClose(float32Of(record.attached.embedding), await reference(few), encoder.dimension, 1e-6, 'attached');
    expect(record.attached.owner_server_alive_after_close).toBe(true);
  });

  it('made on a thread that then ends: its server lives on (PR_SET_PDEATHSIG is taken by a thread of its own)', async () => {
    expect(record.thread.server_alive).toBe(true);
    expectVectorsClose(float32Of(record.thread.embedding), await reference(few.slice(0, 3)), encoder.dimension, 1e-6, 'thread');
  });

  it('close() (twice) and the context manager stop the server and remove its socket directory', () => {
    expect(record.closed).toMatchObject({ server_gone: true, socket_dir_removed: true, context_manager_server_gone: true, context_manager_socket_dir_removed: true });
  });

  it('its owner SIGKILLed, the server dies with it', () => {
    expect(record.owner_killed).toMatchObject({ server_alive_before: true, server_gone: true });
    expect(record.owner_killed.seconds).toBeLessThan(5);
  });

  it('a server that exits early: ServerStartError naming the model, the command and its stderr', () => {
    const missing = record.errors.missing_model;
    expect(missing).toMatchObject({ type: 'ServerStartError', code: 'ERR_SERVER_START' });
    expect(missing.message).toContain("bert-embed serve for model '/nonexistent/model-dir' exited with code 1 before it was ready");
    expect(missing.message).toContain(`command: ${BIN} serve -m /nonexistent/model-dir --socket /`);
    expect(missing.message).toContain('bert-embed: Model path /nonexistent/model-dir does not exist');

    const exits = record.errors.command_exits;
    expect(exits).toMatchObject({ type: 'ServerStartError', code: 'ERR_SERVER_START' });
    expect(exits.message).toContain(`bert-embed serve for model '${MODEL}' exited with code 3 before it was ready`);
    expect(exits.message).toMatch(/its last stderr lines:\n {4}no engine here/);
  });

  it('a server that never answers /health: ServerStartError after startup_timeout, and the process is stopped', () => {
    const timeout = record.errors.startup_timeout;
    expect(timeout).toMatchObject({ type: 'ServerStartError', code: 'ERR_SERVER_START', stopped: true });
    expect(timeout.message).toContain("bert-embed serve for model '/models/x' did not answer GET /health within 1 s (startup_timeout); it was stopped");
    expect(timeout.message).toMatch(/started as pid \d+/);
    expect(timeout.seconds).toBeGreaterThanOrEqual(1);
    expect(timeout.seconds).toBeLessThan(10);
  });

  it('no bert-embed command: BERT_EMBED_BIN naming nothing, or nothing on PATH', () => {
    expect(record.errors.bin_missing).toEqual({
      type: 'ServerStartError',
      code: 'ERR_NO_COMMAND',
      message: "Expected an executable file or command for BERT_EMBED_BIN but received '/nonexistent/bin/bert-embed.js', which is neither a file nor a command on PATH",
    });
    expect(record.errors.not_on_path).toMatchObject({ type: 'ServerStartError', code: 'ERR_NO_COMMAND' });
    expect(record.errors.not_on_path.message).toMatch(/^bert-embed is not on PATH and BERT_EMBED_BIN is not set/);
  });

  it('no server at socket=: the client\'s ServerConnectionError', () => {
    expect(record.errors.no_server_at_socket).toMatchObject({ type: 'ServerConnectionError', code: 'ERR_CONNECTION' });
    expect(record.errors.no_server_at_socket.message).toContain('unix:/nonexistent/bert.sock');
  });

  it('bad arguments and batches: TypeError or ValueError naming the argument, what was expected and received', () => {
    const expected: Record<string, [string, string]> = {
      unknown_argument: ['TypeError', "BertEmbedder got an unknown argument 'device_map'; it takes model, column, output_column, socket, "],
      bad_pooling: ['ValueError', "Expected one of NONE, REDUCE_MEAN, REDUCE_MAX, REDUCE_MEAN_MAX, CLS_TOKEN, FIRST_TOKEN, SEP_TOKEN, LAST_TOKEN for pooling but received 'mean' of type str"],
      bad_max_seq_len: ['TypeError', "Expected an integer of at least 2, or None for no fixed length for max_seq_len but received '32' of type str"],
      model_and_socket: ['ValueError', "Expected model or socket but received both: with socket='/tmp/x.sock'"],
      options_with_socket: ['ValueError', "Expected no server options with socket='/tmp/x.sock' (the running server's apply) but received max_seq_len, pooling"],
      missing_column: ['ValueError', "Expected a column 'text' of texts but the batch has only 'id', 'body'"],
      not_a_string: ['ValueError', "Expected a non-empty string in column 'text' but received None (row 1 of the batch)"],
      empty_string: ['ValueError', "Expected a non-empty string in column 'text' but received '  ' (row 1 of the batch)"],
      output_exists: ['ValueError', "The batch already has a column 'embedding': choose another output_column"],
      not_a_batch: ['TypeError', "Expected a dict of numpy arrays (batch_format='numpy'), a pandas.DataFrame or a pyarrow.Table for batch but received ['a', 'b'] of type list"],
    };
    for (const [name, [type, message]] of Object.entries(expected)) {
      expect(record.errors[name]?.type, name).toBe(type);
      expect(record.errors[name].message, name).toContain(message);
    }
  });
});

describe('map_batches on a local two-node Ray cluster', () => {
  let record: any;
  beforeAll(async () => {
    await python('ray_pipeline.py', { model: MODEL, sentences, max_seq_len: MAX_SEQ_LEN, pooling: POOLING, work_dir: dir }, 240_000);
    record = JSON.parse(fs.readFileSync(path.join(dir, 'result.json'), 'utf8'));
  }, 270_000);

  afterAll(() => {
    // the killed actor's server died with it, before it could remove its socket's directory
    if (record?.killed) fs.rmSync(path.dirname(record.killed.socket), { recursive: true, force: true });
  });

  it('an actor SIGKILLed mid-run: Ray restarts it and retries its batch; every id comes once, with the in-process vectors', async () => {
    const run = record.numpy;
    expect(run.columns).toEqual(['embedding', 'id', 'source', 'text']);
    const vectors = byId(run, sentences.length);
    run.ids.forEach((id: number, row: number) => expect(run.sources[row]).toBe(`sts-dev:${id}`));
    expectVectorsClose(vectors, await reference(sentences), encoder.dimension, 1e-6, 'numpy run');
    // two actors, one on each node, and the killed one's replacement
    expect(run.actors.length).toBe(3);
    expect(new Set(run.actors.map((actor: any) => actor.node_id)).size).toBe(2);
    expect(run.actors.map((actor: any) => actor.actor_pid)).toContain(record.killed.actor_pid);
  });

  it("the killed actor's server is gone: no orphan", () => {
    expect(record.killed_server_gone).toBe(true);
  });

  it("each actor's server: --threads from the actor's CPUs, on its private UNIX socket only (no TCP port)", () => {
    const runs: [any[], string[]][] = [
      [record.numpy.actors, []],
      [record.pandas.actors, ['--pooling', POOLING, '--normalize']],
    ];
    for (const [actors, flags] of runs) {
      for (const { server_argv: argv, socket } of actors) {
        expect(argv.slice(argv.indexOf('serve'))).toEqual(['serve', '-m', MODEL, '--socket', socket, '--max-seq-len', String(MAX_SEQ_LEN), ...flags, '--threads', '1']);
      }
    }
  });

  it('batch_format pandas, with pooling and normalize passed on to the servers: the in-process vectors for those options', async () => {
    const run = record.pandas;
    const vectors = byId(run, sentences.length);
    run.ids.forEach((id: number, row: number) => expect(run.sources[row]).toBe(`sts-dev:${id}`));
    expectVectorsClose(vectors, await reference(sentences, { pooling: POOLING, normalize: true }), encoder.dimension, 1e-6, 'pandas run');
  });

  it("a model that does not exist: the job fails, and the driver's error says why (model, command, the server's stderr)", () => {
    const model = path.join(dir, 'no-such-model');
    expect(record.broken.message).toContain(`ServerStartError: bert-embed serve for model '${model}' exited with code 1 before it was ready`);
    expect(record.broken.message).toContain(`command: ${BIN} serve -m ${model} --socket `);
    expect(record.broken.message).toContain(`bert-embed: Model path ${model} does not exist`);
  });

  it('every server stops when its actor exits: closed by the actor (its socket directory removed), or killed with it', () => {
    expect(Object.values(record.servers_gone_after_shutdown)).toEqual(Array(5).fill(true));
    expect(record.socket_dirs_left).toEqual([record.killed.socket]);
  });
});
