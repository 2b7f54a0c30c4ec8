// The flags come from the option declarations (lib/option-declarations.ts): every declared flag is in the
// commands' --help, README's option table is the one the declarations write, bert-as-service's spellings
// (--num-worker, --device-map, --pooling-strategy, --pooling-layer, --max-batch-size) set the same options,
// --max-seq-len NONE is null, and the new flags reach the encoder (outputs compared with the in-process API).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Encoder, libtorchInfo, type EncoderOptions } from '../../lib/index.js';
import { SERVE_FLAGS } from '../../lib/cli/serve-flag-declarations.js';
import { ENCODER_OPTIONS } from '../../lib/option-declarations.js';
import { checkpointDir } from '../helpers/checkpoints.js';
import { expectVectorsClose } from '../helpers/compare.js';
import { repoRoot } from '../reference/helpers.js';
import { jsonLines, runCli } from './run-cli.js';

const MODEL = checkpointDir('odd'); // max_position_embeddings 64
const TEXTS = ['A man is playing a flute.', 'Hello WORLD, Café', 'word'];
let work: string;
let input: string;
const encoders: Encoder[] = [];

async function encodeInProcess(options: EncoderOptions, texts = TEXTS): Promise<Float32Array[]> {
  const encoder = await Encoder.load(MODEL, options);
  encoders.push(encoder);
  return (await encoder.encode(texts)).rows();
}

function vectorsOf(stdout: Buffer): Float32Array[] {
  return jsonLines(stdout).map((line) => Float32Array.from(line.embedding as number[]));
}

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'bert-embed-flags-'));
  input = path.join(work, 'texts.txt');
  fs.writeFileSync(input, `${TEXTS.join('\n')}\n`);
});
afterAll(async () => {
  await Promise.all(encoders.map((encoder) => encoder.close()));
  fs.rmSync(work, { recursive: true, force: true });
});

describe('flags from the declarations', () => {
  it('README\'s option table is the one the declarations write', () => {
    const check = () => execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'readme-options.mjs'), '--check'], { stdio: 'pipe' });
    expect(check).not.toThrow();
  });

  it('every declared flag is in --help (the queue bound in serve\'s only); the aliases are hidden', async () => {
    const encodeHelp = (await runCli(['encode', '--help'])).stdout.toString();
    const serveHelp = (await runCli(['serve', '--help'])).stdout.toString();
    for (const option of ENCODER_OPTIONS) {
      const flag = option.flag.spec.split(' ')[0];
      expect(serveHelp, option.name).toContain(flag);
      if ('serveOnly' in option.flag) expect(encodeHelp, option.name).not.toContain(flag);
      else expect(encodeHelp, option.name).toContain(flag);
      for (const alias of ('aliases' in option.flag ? option.flag.aliases : []) as string[]) expect(serveHelp, alias).not.toContain(alias);
    }
    for (const flag of SERVE_FLAGS) expect(serveHelp, flag.name).toContain(flag.flag.spec);
  });

  it("serve's --http-port (bert-as-service's) is --port", async () => {
    const both = await runCli(['serve', '-m', MODEL, '--port', '0', '--http-port', '0']);
    expect(both.code).toBe(2);
    expect(both.stderr).toBe('bert-embed: --port and --http-port are one option (port); give it once\n');
  });
});

describe("bert-as-service's spellings and values", () => {
  it('--pooling-strategy, --pooling-layer and --max-batch-size set pooling, layers and maxBatchSize', async () => {
    const result = await runCli(['encode', '-m', MODEL, '-q', '--pooling-strategy', 'CLS_TOKEN', '--pooling-layer', '-1', '-3', '--max-batch-size', '2', input]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expectVectorsClose(vectorsOf(result.stdout).flatMap((v) => [...v]), (await encodeInProcess({ pooling: 'CLS_TOKEN', layers: [-1, -3], maxBatchSize: 2 })).flatMap((v) => [...v]), 192, 1e-6);
  });

  it('one option given twice, by both spellings, is a usage error (exit 2)', async () => {
    const result = await runCli(['encode', '-m', MODEL, '--workers', '2', '--num-worker', '2', input]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('bert-embed: --workers and --num-worker are one option (workers); give it once\n');
  });

  it('--num-worker is --workers, and its range is named by the flag given', async () => {
    const result = await runCli(['encode', '-m', MODEL, '--num-worker', '0', input]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('bert-embed: Expected integer from 1 to 1024 for --workers but received 0 of type number\n');
  });

  it('--device-map takes GPU numbers (0 is cuda:0)', async () => {
    // Variadic like bert-as-service's -device_map 0 1: the input file goes first (or after --).
    const result = await runCli(['encode', input, '-m', MODEL, '-q', '--device-map', '0']);
    if (libtorchInfo().cudaDeviceCount > 0) {
      // On a GPU the number became cuda:0, whose vectors are the CPU's within float32 rounding.
      expect(result.code, result.stderr.toString()).toBe(0);
      expectVectorsClose(vectorsOf(result.stdout).flatMap((v) => [...v]), (await encodeInProcess({})).flatMap((v) => [...v]), 96, 1e-4);
    } else {
      expect(result.code).toBe(1);
      // Without CUDA the native layer names the device it was given: the number became cuda:0.
      expect(result.stderr).toMatch(/device 'cuda:0' was requested, but/);
    }
  });

  it('--max-seq-len NONE is null: nothing cut before max_position_embeddings', async () => {
    const long = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    const file = path.join(work, 'long.txt');
    fs.writeFileSync(file, `${long}\n`);
    const result = await runCli(['encode', '-m', MODEL, '-q', '--max-seq-len', 'NONE', file]);
    expect(result.code).toBe(0);
    expectVectorsClose(vectorsOf(result.stdout)[0], (await encodeInProcess({ maxSeqLen: 64 }, [long]))[0], 96, 1e-6);
    const refused = await runCli(['encode', '-m', MODEL, '--max-seq-len', 'NONE', '--pooling', 'NONE', file]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--pooling NONE with --max-seq-len NONE writes rows of one shape only with --fixed-embed-length/);
    const bad = await runCli(['encode', '-m', MODEL, '--max-seq-len', 'none-at-all', file]);
    expect(bad.code).toBe(2);
  });

  it('--no-special-token and --cased-tokenization reach the tokenizer (tokenize) and the encoder (encode)', async () => {
    const tokenized = await runCli(['tokenize', '-m', MODEL, '--no-special-token', '--cased-tokenization', input]);
    expect(tokenized.code).toBe(0);
    const encoder = await Encoder.load(MODEL, { specialTokens: false, casedTokenization: true });
    encoders.push(encoder);
    expect(jsonLines(tokenized.stdout).map((line) => line.ids)).toEqual(encoder.tokenize(TEXTS).map((t) => t.ids));
    const encoded = await runCli(['encode', '-m', MODEL, '-q', '--no-special-token', '--cased-tokenization', input]);
    expect(encoded.code).toBe(0);
    expectVectorsClose(vectorsOf(encoded.stdout).flatMap((v) => [...v]), (await encodeInProcess({ specialTokens: false, casedTokenization: true })).flatMap((v) => [...v]), 96, 1e-6);
  });

  it('--gpu-memory-fraction is checked like the option', async () => {
    const result = await runCli(['encode', '-m', MODEL, '--gpu-memory-fraction', '0.5', input]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^bert-embed: Expected a CUDA device among them for --gpu-memory-fraction for --devices but received/);
    const word = await runCli(['encode', '-m', MODEL, '--gpu-memory-fraction', 'half', input]);
    expect(word.code).toBe(2);
    expect(word.stderr).toMatch(/expected a number but received "half"/);
  });
});
