// Interrupted work never looks finished (issue 12): `-o` is written to a temporary file beside the
// output and renamed into place when complete; SIGINT / SIGTERM stop the run, remove the temporary
// file and exit 130 / 143; a failed run leaves no output either; an output that is one of the inputs
// is refused (exit 2). A reader that closes stdout early (`| head`) stops the run cleanly: exit 0,
// never a crash under the model's native threads. Never emit invalid output: a line whose answer is
// not finite stops the run with exit 1, naming the line. All on the real binary.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointDir } from '../helpers/checkpoints.js';
import { stsSentences } from '../helpers/sts.js';
import { BIN, jsonLines, runCli } from './run-cli.js';

const MODEL = checkpointDir('tiny');
const MLM_MODEL = checkpointDir('mlm-tiny');
let work: string;
/** ~23,000 sentences: minutes of work for the tiny model, so a signal always lands mid-run */
let manySentences: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'bert-embed-interrupts-'));
  manySentences = path.join(work, 'many.txt');
  fs.writeFileSync(manySentences, `${stsSentences('train').join('\n')}\n`);
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A fresh directory holding a copy of the many-sentence input as `in.txt`. */
function runDir(name: string): { dir: string; input: string } {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  const input = path.join(dir, 'in.txt');
  fs.copyFileSync(manySentences, input);
  return { dir, input };
}

/** Bytes in the files of `dir` other than `except`. */
function bytesBesides(dir: string, except: string[]): number {
  return fs
    .readdirSync(dir)
    .filter((name) => !except.includes(name))
    .reduce((total, name) => total + fs.statSync(path.join(dir, name)).size, 0);
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Starts the CLI, sends `signal` once `ready()` holds, and resolves with how it ended. */
async function interrupt(args: string[], ready: () => boolean, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, killedBy) => resolve({ code, signal: killedBy })));
  try {
    await waitFor(() => ready() || child.exitCode !== null, 'output to be written');
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  expect(child.exitCode, `the run ended before ${signal}: ${stderr}`).toBe(null);
  child.kill(signal);
  return { ...(await ended), stderr };
}

describe('an interrupted run leaves no output that looks finished', () => {
  it('SIGINT during encode -o out.npy: exit 130, no out.npy, no temporary file', async () => {
    const { dir, input } = runDir('sigint');
    const result = await interrupt(['encode', '-m', MODEL, input, '-o', path.join(dir, 'out.npy')], () => bytesBesides(dir, ['in.txt']) > 64 * 1024, 'SIGINT');
    expect(result).toMatchObject({ code: 130, signal: null });
    expect(result.stderr).toBe('bert-embed: stopped by SIGINT: an output file (-o) is written only by a run that completes\n');
    expect(fs.readdirSync(dir)).toEqual(['in.txt']);
  });

  it('SIGTERM during score -o out.jsonl: exit 143, the previous out.jsonl untouched', async () => {
    const { dir, input } = runDir('sigterm');
    const output = path.join(dir, 'out.jsonl');
    fs.writeFileSync(output, '{"previous":"run"}\n');
    const result = await interrupt(['score', '-m', MLM_MODEL, input, '-o', output], () => bytesBesides(dir, ['in.txt']) > 32 * 1024, 'SIGTERM');
    expect(result).toMatchObject({ code: 143, signal: null });
    expect(result.stderr).toMatch(/^bert-embed: stopped by SIGTERM/);
    expect(fs.readdirSync(dir).sort()).toEqual(['in.txt', 'out.jsonl']);
    expect(fs.readFileSync(output, 'utf8')).toBe('{"previous":"run"}\n');
  });

  it('a run that fails part-way (invalid UTF-8 on line 3) leaves no output file', async () => {
    const dir = path.join(work, 'fails');
    fs.mkdirSync(dir);
    const input = path.join(dir, 'in.txt');
    fs.writeFileSync(input, Buffer.concat([Buffer.from('fine\nalso fine\n'), Buffer.from([0x62, 0xc3, 0x28]), Buffer.from('\n')]));
    const result = await runCli(['encode', '-m', MODEL, input, '-o', path.join(dir, 'out.npy')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`bert-embed: ${input}:3: invalid UTF-8\n`);
    expect(fs.readdirSync(dir)).toEqual(['in.txt']);
  });

  it('a complete run renames its output into place, through a symbolic link, keeping the link', async () => {
    const dir = path.join(work, 'complete');
    fs.mkdirSync(dir);
    const input = path.join(dir, 'in.txt');
    fs.writeFileSync(input, 'one\ntwo\n');
    const real = path.join(dir, 'real.jsonl');
    fs.writeFileSync(real, 'old\n');
    fs.symlinkSync('real.jsonl', path.join(dir, 'link.jsonl'));
    const result = await runCli(['encode', '-m', MODEL, input, '-o', path.join(dir, 'link.jsonl')]);
    expect(result.code).toBe(0);
    expect(fs.lstatSync(path.join(dir, 'link.jsonl')).isSymbolicLink()).toBe(true);
    expect(jsonLines(fs.readFileSync(real)).map((line) => line.line)).toEqual([1, 2]);
    expect(fs.readdirSync(dir).sort()).toEqual(['in.txt', 'link.jsonl', 'real.jsonl']);
    // Devices are written as they are.
    expect((await runCli(['encode', '-m', MODEL, input, '-o', '/dev/null', '--format', 'npy'])).code).toBe(0);
  });
});

describe('an output that is one of the inputs', () => {
  it('is refused with exit 2 before anything is read or written, however it is named', async () => {
    const dir = path.join(work, 'same');
    fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
    const input = path.join(dir, 'in.txt');
    const text = 'The [MASK] sat on the mat.\nA [MASK] is playing a guitar.\n';
    fs.writeFileSync(input, text);
    fs.symlinkSync('in.txt', path.join(dir, 'link.txt'));
    fs.linkSync(input, path.join(dir, 'hard.txt'));
    const cases: string[][] = [
      ['encode', '-m', MODEL, input, '-o', input, '--format', 'jsonl'],
      ['encode', '-m', MODEL, input, '-o', path.join(dir, 'sub', '..', 'in.txt'), '--format', 'npy'],
      ['encode', '-m', MODEL, path.join(dir, 'link.txt'), '-o', input, '--format', 'f32'],
      ['encode', '-m', MODEL, '-', input, '-o', path.join(dir, 'hard.txt'), '--format', 'jsonl'],
      ['score', '-m', MLM_MODEL, input, '-o', input],
      ['fill-mask', '-m', MLM_MODEL, input, '-o', path.join(dir, 'link.txt')],
      ['tokenize', '-m', MODEL, input, '-o', input],
    ];
    for (const args of cases) {
      const result = await runCli(args);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(/^bert-embed: the output .* is also an input \(.*\): write the output to another file\n$/);
      expect(fs.readFileSync(input, 'utf8')).toBe(text);
    }
    // stdin redirected from the file: `bert-embed encode -o in.txt < in.txt`
    const stdin = fs.openSync(input, 'r');
    try {
      const redirected = spawnSync(process.execPath, [BIN, 'encode', '-m', MODEL, '-o', input, '--format', 'jsonl'], { stdio: [stdin, 'pipe', 'pipe'], encoding: 'utf8' });
      expect(redirected.status, redirected.stderr).toBe(2);
      expect(redirected.stderr).toMatch(/is also an input \(-\)/);
    } finally {
      fs.closeSync(stdin);
    }
    expect(fs.readFileSync(input, 'utf8')).toBe(text);
    expect(fs.readdirSync(dir).sort()).toEqual(['hard.txt', 'in.txt', 'link.txt', 'sub']);
  });
});

describe('a reader that closes stdout early', () => {
  // Before the fix, about half of the encode runs and every score run died of SIGSEGV (139).
  const commands: [string, number, () => string[]][] = [
    ['encode', 10, () => ['encode', '-m', MODEL, manySentences]],
    ['score', 5, () => ['score', '-m', MLM_MODEL, manySentences]],
    ['fill-mask', 5, () => ['fill-mask', '-m', MLM_MODEL, path.join(work, 'masks.txt')]],
  ];
  for (const [name, RUNS, args] of commands) {
    it(`${name} | head -n 1, ${RUNS} times: exit 0 every time, never a crash`, () => {
      if (name === 'fill-mask') {
        const lines = stsSentences('dev').map((sentence) => sentence.replace(/^(\S+)/, '[MASK]'));
        fs.writeFileSync(path.join(work, 'masks.txt'), `${lines.join('\n')}\n`);
      }
      const quoted = [process.execPath, BIN, ...args()].map((arg) => `'${arg.replace(/'/g, "'\\''")}'`).join(' ');
      const statuses: string[] = [];
      for (let run = 0; run < RUNS; run++) {
        // stdout: head's one line; stderr: the CLI's own, then its exit status.
        const result = spawnSync('bash', ['-c', `${quoted} | head -n 1; echo "exit \${PIPESTATUS[0]}" >&2`], { encoding: 'utf8', timeout: 120_000 });
        const status = result.stderr.trim().split('\n').pop()!;
        statuses.push(status);
        expect(result.stderr, `run ${run + 1}`).toBe(`${status}\n`);
        expect(JSON.parse(result.stdout)).toMatchObject({ line: 1 });
      }
      expect(statuses).toEqual(new Array(RUNS).fill('exit 0'));
    }, 600_000);
  }
});

/**
 * A copy of a checkpoint whose position embedding 12 is 1e38 in every dimension: finite weights,
 * but LayerNorm's sum over a token at position 12 overflows to infinity, so any line of 13 tokens
 * or more gets NaN everywhere, while a shorter line alone is answered as usual.
 */
function overflowingCopy(source: string, name: string): string {
  const dir = path.join(work, name);
  fs.cpSync(source, dir, { recursive: true });
  const file = path.join(dir, 'model.safetensors');
  const bytes = fs.readFileSync(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const tensor = header['embeddings.position_embeddings.weight'];
  expect(tensor.dtype).toBe('F32');
  const width = tensor.shape[1];
  const start = 8 + headerLength + tensor.data_offsets[0] + 12 * width * 4;
  for (let i = 0; i < width; i++) bytes.writeFloatLE(1e38, start + i * 4);
  fs.writeFileSync(file, bytes);
  return dir;
}

describe('an answer that is not finite', () => {
  const LONG = 'this line is long enough to reach well past the twelfth position of the model';
  let encodeModel: string;
  let mlmModel: string;
  let input: string;
  beforeAll(() => {
    encodeModel = overflowingCopy(MODEL, 'overflow-tiny');
    mlmModel = overflowingCopy(MLM_MODEL, 'overflow-mlm-tiny');
    input = path.join(work, 'overflow.txt');
    fs.writeFileSync(input, `a short line\nanother short line\n${LONG}\nshort again\n`);
  });

  it('encode stops with exit 1 naming the line, and writes no NaN', async () => {
    const toStdout = await runCli(['encode', '-m', encodeModel, input]);
    expect(toStdout.code).toBe(1);
    expect(toStdout.stderr).toMatch(new RegExp(`^bert-embed: ${input}:3: the model's output for this line is not finite \\(NaN\\).*ERR_NON_FINITE.*\\n$`));
    expect(toStdout.stdout.toString()).not.toMatch(/NaN|null|Infinity/);

    const dir = path.join(work, 'overflow-out');
    fs.mkdirSync(dir);
    const toFile = await runCli(['encode', '-m', encodeModel, input, '-o', path.join(dir, 'out.npy')]);
    expect(toFile.code).toBe(1);
    expect(toFile.stderr).toMatch(new RegExp(`^bert-embed: ${input}:3: `));
    expect(fs.readdirSync(dir)).toEqual([]);

    // From stdin, one sentence per batch: the line is named as stdin's (-:N).
    const alone = await runCli(['encode', '-m', encodeModel, '--batch-size', '1'], { input: fs.readFileSync(input) });
    expect(alone.code).toBe(1);
    expect(alone.stderr).toMatch(/^bert-embed: -:3: the model's output for this line is not finite/);
    expect(alone.stdout.toString()).not.toMatch(/NaN|null|Infinity/);
  });

  it('score and fill-mask stop with exit 1 naming the line', async () => {
    const score = await runCli(['score', '-m', mlmModel, input]);
    expect(score.code).toBe(1);
    expect(score.stderr).toMatch(new RegExp(`^bert-embed: ${input}:3: the model's output for this line is not finite`));
    expect(score.stdout.toString()).not.toMatch(/NaN|null|Infinity/);

    const masks = await runCli(['fill-mask', '-m', mlmModel], { input: `a [MASK] line\nthe [MASK] ${LONG}\n` });
    expect(masks.code).toBe(1);
    expect(masks.stderr).toMatch(/^bert-embed: -:2: the model's output for this line is not finite/);
    expect(masks.stdout.toString()).not.toMatch(/NaN|null|Infinity/);
  });
});
