// `bert-embed export`, `encode` and the bert-as-service model-file flags on TensorFlow checkpoints written by
// TensorFlow itself (test/reference/tf_checkpoint.py), run as real processes.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBertConfig } from '../../lib/model/bert-config.js';
import { indexTfCheckpoint } from '../../lib/model/tf-checkpoint/index-checkpoint.js';
import { checkpointDir } from '../helpers/checkpoints.js';
import { makeFixtureDir, removeFixtureDir } from '../reference/helpers.js';
import { runTensorFlow } from '../reference/tf-checkpoint.js';
import { jsonLines, runCli } from './run-cli.js';

let root: string;
let tf: string;
let base: string;
let tuned: string;
const INPUT = 'Hello World, this is a TEST\nsecond line ||| with a pair\n';

beforeAll(async () => {
  root = makeFixtureDir('cli-export-tf');
  tf = path.join(root, 'mlm');
  base = path.join(root, 'base');
  tuned = path.join(root, 'tuned');
  await runTensorFlow([
    { op: 'write', source: checkpointDir('mlm-tiny'), out: tf, extras: true },
    { op: 'write', source: checkpointDir('tiny'), out: base, config_name: 'my_config.json' },
    { op: 'write', source: checkpointDir('mlm-tiny'), out: tuned, ckpt_name: 'model.ckpt-6072', config_name: null },
  ]);
}, 300_000);

afterAll(() => {
  if (root) removeFixtureDir(root);
});

/** The vectors `bert-embed encode` prints for INPUT with `args`. */
async function encode(args: string[]): Promise<number[][]> {
  const result = await runCli(['encode', '-q', '--max-seq-len', '16', ...args], { input: INPUT });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return jsonLines(result.stdout).map((line) => line.embedding as number[]);
}

function expectSameVectors(actual: number[][], expected: number[][]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((vector, i) => vector.forEach((value, j) => expect(Math.abs(value - expected[i][j])).toBeLessThanOrEqual(1e-5)));
}

describe('bert-embed info on a bert-as-service model directory', () => {
  it('tells the heads, the bytes of the index and its shards, and takes the model-file flags', async () => {
    const info = async (args: string[]) => {
      const result = await runCli(['info', '--json', ...args]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      return JSON.parse(result.stdout.toString());
    };
    const mlm = await info(['-m', tf]);
    expect(mlm.heads).toEqual(['pooled', 'maskedLm', 'sparse']);
    expect(mlm.weights.format).toBe('tf-checkpoint');
    const files = fs.readdirSync(tf).filter((name) => name.startsWith('bert_model.ckpt.'));
    expect(mlm.weights.bytes).toBe(files.reduce((sum, name) => sum + fs.statSync(path.join(tf, name)).size, 0));
    expect(mlm.weights.parameters).toBeGreaterThan(0);
    const plain = await info(['-m', base, '--config-name', 'my_config.json']);
    expect(plain.heads).toEqual(['pooled']);
    const fineTuned = await info(['-m', base, '--config-name', 'my_config.json', '--tuned-model-dir', tuned, '--ckpt-name', 'model.ckpt-6072']);
    expect(fineTuned.heads).toEqual(['pooled', 'maskedLm', 'sparse']);
    expect(fineTuned.weights.file).toBe(path.join(tuned, 'model.ckpt-6072.index'));
  });
});

describe('bert-embed export of a bert-as-service model directory', () => {
  it('writes a Hugging Face directory by default, which encodes as the TensorFlow directory does', async () => {
    const out = path.join(root, 'mlm-hf');
    const result = await runCli(['export', tf, out]);
    expect(result.stderr).toBe(`wrote ${path.join(out, 'model.safetensors')}\n`);
    expect(result.code).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer_config.json', 'vocab.txt']);
    const fromTf = await encode(['-m', tf]);
    expect(fromTf[0].length).toBe(128);
    expectSameVectors(await encode(['-m', out]), fromTf);
    expectSameVectors(fromTf, await encode(['-m', checkpointDir('mlm-tiny')]));
  });

  it('writes model.pt with --to torchscript, and refuses --to hf for a Hugging Face directory (exit 2)', async () => {
    const out = path.join(root, 'mlm-ts');
    const result = await runCli(['export', tf, out, '--to', 'torchscript']);
    expect(result.code).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['config.json', 'model.pt', 'tokenizer_config.json', 'vocab.txt']);
    expectSameVectors(await encode(['-m', out]), await encode(['-m', tf]));
    const refused = await runCli(['export', checkpointDir('tiny'), path.join(root, 'tiny-hf'), '--to', 'hf']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`Expected 'torchscript' for --to but received "hf" of type string: ${checkpointDir('tiny')} is already in Hugging Face's`);
  });

  it('--tuned-model-dir, --ckpt-name and --config-name choose the files as bert-as-service does', async () => {
    const flags = ['--config-name', 'my_config.json'];
    expectSameVectors(await encode(['-m', base, ...flags, '--tuned-model-dir', tuned, '--ckpt-name', 'model.ckpt-6072']), await encode(['-m', checkpointDir('mlm-tiny')]));
    expectSameVectors(await encode(['-m', base, ...flags]), await encode(['-m', checkpointDir('tiny')]));
    const exported = path.join(root, 'tuned-hf');
    expect((await runCli(['export', base, exported, ...flags, '--tuned-model-dir', tuned, '--ckpt-name', 'model.ckpt-6072'])).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(exported, 'config.json'), 'utf8')).architectures).toEqual(['BertForMaskedLM']);
  });

  it('a corrupted data shard fails encode with exit 1 and a message naming the tensor', async () => {
    const damaged = path.join(root, 'damaged');
    fs.cpSync(tf, damaged, { recursive: true });
    const config = readBertConfig(path.join(damaged, 'bert_config.json'), 'google');
    const tensor = indexTfCheckpoint(path.join(damaged, 'bert_model.ckpt'), config, 'bert_config.json').find((t) => t.storedName === 'bert/embeddings/word_embeddings')!;
    const shard = tensor.file;
    const bytes = fs.readFileSync(shard);
    bytes[(tensor.begin + tensor.end) >> 1] ^= 0xff;
    fs.writeFileSync(shard, bytes);
    const result = await runCli(['encode', '-q', '-m', damaged], { input: 'hello\n' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${shard}: tensor bert/embeddings/word_embeddings fails its CRC-32C check`);
  });
});
