/**
 * A classifier checkpoint is untrusted like any model file: a head with a tensor missing or a classifier whose rows
 * disagree with config.json's labels is refused at load with a coded error naming the file and the tensor, never
 * half-loaded; invalid classification fields of config.json (labels that are not 0…n-1, …) leave the model to
 * embed, and rerank / classify answer the error naming the field.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Encoder } from '../../lib/index.js';
import { changedCopy, editConfig } from '../helpers/checkpoints.js';
import { makeFixtureDir, removeFixtureDir } from '../reference/helpers.js';

const dirs: string[] = [];
function copy(change: (dir: string) => void, name: 'classifier-3' | 'cross-encoder' = 'classifier-3'): string {
  const dir = changedCopy(name, makeFixtureDir('classifier-files'), change);
  dirs.push(dir);
  return dir;
}
afterAll(() => dirs.forEach(removeFixtureDir));

/** Renames a tensor in the safetensors header to another name of the same length, so that every offset stays. */
function renameTensor(dir: string, from: string, to: string): void {
  expect(to.length).toBe(from.length);
  const file = path.join(dir, 'model.safetensors');
  const bytes = fs.readFileSync(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = bytes.subarray(8, 8 + headerLength).toString('utf8');
  expect(header).toContain(`"${from}"`);
  bytes.write(header.replace(`"${from}"`, `"${to}"`), 8, 'utf8');
  fs.writeFileSync(file, bytes);
}

describe('classifier checkpoints that cannot load', () => {
  it('classifier.* without the pooler: ERR_MODEL_FORMAT naming the missing tensor', async () => {
    const dir = copy((d) => renameTensor(d, 'bert.pooler.dense.weight', 'bert.poolxr.dense.weight'));
    await expect(Encoder.load(dir)).rejects.toMatchObject({ code: 'ERR_MODEL_FORMAT', message: expect.stringMatching(/part of a sequence-classification head but no tensor pooler\.dense\.weight/) });
  });

  it('classifier rows that disagree with id2label: ERR_MODEL_FORMAT naming the tensor and num_labels', async () => {
    const dir = copy((d) =>
      editConfig(d, (config) => {
        config.id2label = { 0: 'a', 1: 'b' };
        config.label2id = { a: 0, b: 1 };
      }),
    );
    await expect(Encoder.load(dir)).rejects.toMatchObject({ code: 'ERR_MODEL_FORMAT', message: expect.stringMatching(/classifier\.weight has shape \[3, 96\] but config\.json implies \[2, 96\] \(num_labels/) });
  });

  it.each([
    ['ids that are not 0…n-1', { id2label: { 0: 'a', 2: 'b' } }, /id2label/],
    ['a label that is not a string', { id2label: { 0: 'a', 1: 7, 2: 'c' } }, /id2label\[1\]/],
    ['num_labels against id2label', { num_labels: 5 }, /num_labels 5 disagrees/],
    ['an unknown problem_type', { problem_type: 'ranking' }, /problem_type/],
    ['an activation_fn that is not a string', { sentence_transformers: { activation_fn: 3 } }, /activation_fn/],
  ])('config.json with %s: the model loads for encode, classify and rerank answer ERR_MODEL_CONFIG naming the field', async (_, fields, message) => {
    const dir = copy((d) => editConfig(d, (config) => Object.assign(config, fields)));
    const encoder = await Encoder.load(dir);
    try {
      expect(encoder.heads).not.toContain('classification');
      expect((await encoder.encode(['still embeds'])).shape).toEqual([1, 96]);
      await expect(encoder.classify(['x'])).rejects.toMatchObject({ code: 'ERR_MODEL_CONFIG', message: expect.stringMatching(message) });
      await expect(encoder.rerank('q', ['d'])).rejects.toMatchObject({ code: 'ERR_MODEL_CONFIG', message: expect.stringMatching(message) });
    } finally {
      await encoder.close();
    }
  });

  it('an activation CrossEncoder would import that the engine lacks: rerank says so by name, raw scores still answer', async () => {
    const dir = copy((d) => editConfig(d, (config) => void (config.sentence_transformers = { activation_fn: 'torch.nn.modules.activation.Softsign' })), 'cross-encoder');
    const encoder = await Encoder.load(dir);
    try {
      await expect(encoder.rerank('q', ['d'])).rejects.toMatchObject({ code: 'ERR_MODEL_CONFIG', message: expect.stringContaining('torch.nn.modules.activation.Softsign') });
      const [raw] = await encoder.rerank('q', ['d'], { rawScores: true });
      const [logits] = await encoder.classify([['q', 'd']], { rawScores: true });
      expect(raw.score).toBe(logits.labels[0].score);
    } finally {
      await encoder.close();
    }
  });
});
