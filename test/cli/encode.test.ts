// `bert-embed encode` and `tokenize` run as real processes: outputs read back by numpy and
// compared with the in-process API on the same model and options.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Encoder } from '../../lib/index.js';
import { checkpointDir } from '../helpers/checkpoints.js';
import { expectVectorsClose } from '../helpers/compare.js';
import { loadNpy } from '../helpers/npy.js';
import { stsSentences } from '../helpers/sts.js';
import { sharedDir } from '../reference/helpers.js';
import { jsonLines, runCli } from './run-cli.js';

const MODEL = checkpointDir('tiny');
const sentences = stsSentences('test').slice(0, 300);
let work: string;
let encoder: Encoder;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'bert-embed-cli-'));
  encoder = await Encoder.load(MODEL, { maxSeqLen: 32 });
});
afterAll(async () => {
  await encoder?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

function writeInput(name: string, text: string | Buffer): string {
  const file = path.join(work, name);
  fs.writeFileSync(file, text);
  return file;
}

describe('bert-embed encode', () => {
  it('writes a float32 .npy that numpy loads, equal to Encoder.encode', async () => {
    const input = writeInput('sentences.txt', `${sentences.join('\n')}\n`);
    const output = path.join(work, 'vectors.npy');
    const result = await runCli(['encode', '-m', MODEL, '--max-seq-len', '32', input, '-o', output]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const npy = loadNpy(output);
    expect(npy.shape).toEqual([sentences.length, encoder.dimension]);
    expect(npy.dtype).toBe('float32');
    expectVectorsClose(npy.data, (await encoder.encode(sentences)).data, encoder.dimension, 1e-5, 'npy');
  });

  it('writes token vectors [n, maxSeqLen, dim] for pooling NONE', async () => {
    const input = writeInput('few.txt', 'one sentence\nand another one\n');
    const output = path.join(work, 'tokens.npy');
    const result = await runCli(['encode', '-m', MODEL, '--max-seq-len', '16', '--pooling', 'NONE', '-o', output, input]);
    expect(result.code).toBe(0);
    const npy = loadNpy(output);
    expect(npy.shape).toEqual([2, 16, encoder.dimension]);
    const expected = await encoder.encode(['one sentence', 'and another one'], { pooling: 'NONE' });
    // The API's maxSeqLen is 32 here: compare the first 16 token rows of each sentence.
    for (let s = 0; s < 2; s++) {
      const width = 16 * encoder.dimension;
      expectVectorsClose(npy.data.subarray(s * width, (s + 1) * width), expected.data.subarray(s * 32 * encoder.dimension, s * 32 * encoder.dimension + width), encoder.dimension, 1e-5, `sentence ${s}`);
    }
  });

  it('reads stdin and writes JSON lines to stdout, encoding empty lines unless --skip-empty', async () => {
    const lines = ['first line', '', 'third line', 'pairs stay pairs ||| like this'];
    const piped = await runCli(['encode', '-m', MODEL, '--max-seq-len', '32', '--normalize', '--show-tokens'], { input: `${lines.join('\n')}\n` });
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe(''); // no progress bar when stderr is not a terminal
    const records = jsonLines(piped.stdout);
    expect(records.map((r) => r.line)).toEqual([1, 2, 3, 4]);
    const expected = await encoder.encode(lines, { normalize: true, showTokens: true });
    expect(records.map((r) => r.tokens)).toEqual(expected.tokens);
    expectVectorsClose(Float32Array.from(records.flatMap((r) => r.embedding as number[])), expected.data, encoder.dimension, 1e-5, 'jsonl');

    const skipped = jsonLines((await runCli(['encode', '-m', MODEL, '--skip-empty', '-'], { input: `${lines.join('\n')}\n` })).stdout);
    expect(skipped.map((r) => r.line)).toEqual([1, 3, 4]);
  });

  it('writes raw float32 and .npy to stdout', async () => {
    const input = writeInput('three.txt', 'a\nb\nc');
    const raw = await runCli(['encode', '-m', MODEL, '--format', 'f32', input]);
    expect(raw.code).toBe(0);
    expect(raw.stdout.length).toBe(3 * encoder.dimension * 4);
    const expected = (await encoder.encode(['a', 'b', 'c'])).data;
    expectVectorsClose(new Float32Array(raw.stdout.buffer.slice(raw.stdout.byteOffset, raw.stdout.byteOffset + raw.stdout.length)), expected, encoder.dimension, 1e-5, 'f32');
    const npy = await runCli(['encode', '-m', MODEL, '--format', 'npy', input]);
    const file = writeInput('from-stdout.npy', npy.stdout);
    expect(loadNpy(file).shape).toEqual([3, encoder.dimension]);
  });

  it('reads JSONL fields, CSV columns by name (quoted, multi-line) and TSV columns by number as pairs', async () => {
    const jsonl = writeInput('docs.jsonl', '{"id":1,"text":"json text one"}\n\n{"id":2,"text":"json, text two"}\n');
    const fromJsonl = jsonLines((await runCli(['encode', '-m', MODEL, '--field', 'text', jsonl])).stdout);
    expect(fromJsonl.map((r) => r.line)).toEqual([1, 3]);
    expectVectorsClose(Float32Array.from(fromJsonl.flatMap((r) => r.embedding as number[])), (await encoder.encode(['json text one', 'json, text two'])).data, encoder.dimension, 1e-5, 'jsonl input');

    const csv = writeInput('docs.csv', 'id,body\n1,"quoted, with comma"\n2,"two ""quoted"" lines\nsecond line"\n3,plain\n');
    const fromCsv = jsonLines((await runCli(['encode', '-m', MODEL, '--column', 'body', csv])).stdout);
    expect(fromCsv.map((r) => r.line)).toEqual([2, 3, 5]);
    const csvTexts = ['quoted, with comma', 'two "quoted" lines\nsecond line', 'plain'];
    expectVectorsClose(Float32Array.from(fromCsv.flatMap((r) => r.embedding as number[])), (await encoder.encode(csvTexts)).data, encoder.dimension, 1e-5, 'csv input');

    // STS-B itself: tab-separated, sentences in columns 6 and 7, encoded as pairs.
    const sts = fs.readFileSync(path.join(sharedDir, 'data', 'stsbenchmark', 'sts-dev.csv'), 'utf8').split('\n').slice(0, 20).join('\n');
    const stsFile = writeInput('sts.tsv', sts);
    const fromTsv = jsonLines((await runCli(['encode', '-m', MODEL, '--max-seq-len', '32', stsFile, '--column', '6', '--column', '7'])).stdout);
    const pairs = sts.split('\n').map((line) => line.split('\t')).map((c) => `${c[5]} ||| ${c[6]}`);
    expect(fromTsv).toHaveLength(20);
    expectVectorsClose(Float32Array.from(fromTsv.flatMap((r) => r.embedding as number[])), (await encoder.encode(pairs)).data, encoder.dimension, 1e-5, 'tsv pairs');
  });

  it('with --pairs, reports a line that is not a pair, with its number', async () => {
    const input = writeInput('pairs.txt', 'a ||| b\nc ||| d\nno pair here\n');
    const result = await runCli(['encode', '-m', MODEL, '--pairs', input, '-o', path.join(work, 'pairs.npy')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`bert-embed: ${input}:3: expected a pair written 'A ||| B' (--pairs)\n`);
  });
});

describe('bert-embed tokenize', () => {
  it('prints the tokens and ids Encoder.tokenize gives', async () => {
    const lines = ['Hello, world!', 'Unbelievable tokenization ||| second half'];
    const result = await runCli(['tokenize', '-m', MODEL, '--max-seq-len', '32'], { input: lines.join('\n') });
    expect(result.code).toBe(0);
    const records = jsonLines(result.stdout);
    expect(records.map(({ tokens, ids, typeIds, offsets }) => ({ tokens, ids, typeIds, offsets }))).toEqual(encoder.tokenize(lines));
  });
});
