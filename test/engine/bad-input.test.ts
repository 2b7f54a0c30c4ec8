// Every kind of bad input gets a clear error naming what is wrong, and the process keeps serving.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BertEmbedError, Encoder, libtorchInfo } from '../../lib/index.js';
import { makeFixtureDir, removeFixtureDir } from '../reference/helpers.js';
import { changedCopy, checkpointDir, editConfig } from '../helpers/checkpoints.js';

let scratch: string;
let encoder: Encoder;

/** A copy of the tiny checkpoint with one thing broken by `breakIt`. */
function brokenCopy(name: string, breakIt: (dir: string) => void): string {
  return changedCopy('tiny', path.join(scratch, name), breakIt);
}

beforeAll(async () => {
  scratch = makeFixtureDir('bad-input');
  encoder = await Encoder.load(checkpointDir('tiny'), { maxSeqLen: 16 });
});
afterAll(async () => {
  await encoder.close();
  removeFixtureDir(scratch);
});

describe('model files', () => {
  it('names a missing directory', async () => {
    const missing = path.join(scratch, 'nowhere');
    await expect(Encoder.load(missing)).rejects.toThrow(new BertEmbedError(`Model path ${missing} does not exist`, 'ERR_MODEL_NOT_FOUND'));
  });

  it('refuses a config that is not BERT', async () => {
    const dir = brokenCopy('roberta', (d) => editConfig(d, (c) => (c.model_type = 'roberta')));
    await expect(Encoder.load(dir)).rejects.toMatchObject({ code: 'ERR_MODEL_CONFIG', message: expect.stringMatching(/"roberta" model.*model_type "bert"/) });
  });

  it('reports a truncated safetensors file with the tensor that is cut', async () => {
    const dir = brokenCopy('truncated', (d) => {
      const file = path.join(d, 'model.safetensors');
      fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2));
    });
    await expect(Encoder.load(dir)).rejects.toMatchObject({ code: 'ERR_MODEL_FORMAT', message: expect.stringMatching(/is truncated: tensor \S+ ends at byte \d+ but the file has \d+ bytes/) });
  });

  it('reports a vocabulary larger than the config allows', async () => {
    const dir = brokenCopy('small-vocab-size', (d) => editConfig(d, (c) => (c.vocab_size = 1000)));
    await expect(Encoder.load(dir)).rejects.toMatchObject({
      code: 'ERR_MODEL_CONFIG',
      message: expect.stringContaining('the vocabulary has 30522 tokens but config.json says vocab_size 1000'),
    });
  });

  it('reports weights whose shape disagrees with the config', async () => {
    const dir = brokenCopy('big-vocab-size', (d) => editConfig(d, (c) => (c.vocab_size = 40000)));
    await expect(Encoder.load(dir)).rejects.toMatchObject({
      code: 'ERR_MODEL_FORMAT',
      message: expect.stringContaining('tensor embeddings.word_embeddings.weight has shape [30522, 128] but config.json implies [40000, 128]'),
    });
  });

  it('refuses a pickle, saying how to convert it', async () => {
    const dir = brokenCopy('pickle', (d) => {
      fs.renameSync(path.join(d, 'model.safetensors'), path.join(d, 'pytorch_model.bin'));
    });
    await expect(Encoder.load(dir)).rejects.toMatchObject({ code: 'ERR_UNSAFE_FORMAT', message: expect.stringMatching(/pickle.*safetensors/s) });
    await expect(Encoder.load(path.join(dir, 'pytorch_model.bin'))).rejects.toMatchObject({ code: 'ERR_UNSAFE_FORMAT' });
  });

  it('reports a file that is not TorchScript', async () => {
    const dir = brokenCopy('not-torchscript', (d) => fs.writeFileSync(path.join(d, 'model.pt'), 'not a zip archive'));
    await expect(Encoder.load(dir)).rejects.toMatchObject({ code: 'ERR_MODEL_FORMAT', message: expect.stringContaining('model.pt is not a TorchScript archive') });
  });

  it.runIf(libtorchInfo().cudaDeviceCount === 0)('explains that CUDA is not available', async () => {
    const reason = libtorchInfo().cudaCompiled ? /CUDA device\(s\) are visible/ : /has no CUDA support/;
    await expect(Encoder.load(checkpointDir('tiny'), { device: 'cuda' })).rejects.toMatchObject({ code: 'ERR_CUDA_UNAVAILABLE', message: expect.stringMatching(reason) });
  });
});

describe('options', () => {
  const cases: [string, unknown, ErrorConstructor, string][] = [
    ['misspelled option', { poolling: 'REDUCE_MEAN' }, TypeError, "Unknown option 'poolling' for Encoder.load. Did you mean 'pooling'?"],
    ['negative maxSeqLen', { maxSeqLen: -1 }, RangeError, 'Expected integer from 2 to 512 for maxSeqLen but received -1 of type number'],
    ['string maxSeqLen', { maxSeqLen: '25' }, TypeError, 'Expected integer from 2 to 512 for maxSeqLen but received "25" of type string'],
    ['unknown pooling', { pooling: 'MEAN' }, RangeError, "for pooling but received \"MEAN\" of type string"],
    ['layer out of range', { layers: [-2, 3] }, RangeError, 'Expected integer from -3 to 2 for layers[1] but received 3 of type number'],
    ['empty layers', { layers: [] }, TypeError, 'Expected non-empty array of integers for layers'],
    ['device', { device: 'gpu' }, RangeError, "Expected 'cpu', 'cuda' or 'cuda:N' for device but received \"gpu\" of type string"],
    ['dtype', { dtype: 'float64' }, RangeError, 'for dtype but received "float64" of type string'],
    ['float16 on the CPU', { dtype: 'float16' }, RangeError, 'float16 needs a CUDA device'],
    ['normalize', { normalize: 'yes' }, TypeError, 'Expected boolean for normalize but received "yes" of type string'],
    ['threads', { threads: 0 }, RangeError, 'for threads but received 0 of type number'],
    ['options itself', 'fast', TypeError, 'Expected object for options but received "fast" of type string'],
  ];
  it.each(cases)('rejects %s', async (_, options, type, message) => {
    const attempt = Encoder.load(checkpointDir('tiny'), options as never);
    await expect(attempt).rejects.toBeInstanceOf(type);
    await expect(attempt).rejects.toThrow(message);
  });

  it('rejects a modelPath that is not a string', async () => {
    await expect(Encoder.load(42 as never)).rejects.toThrow(new TypeError('Expected string for modelPath but received 42 of type number'));
  });
});

describe('encode arguments', () => {
  const cases: [string, unknown, unknown, ErrorConstructor, string][] = [
    ['a string instead of an array', 'hello', {}, TypeError, 'Expected array of strings for texts but received "hello" of type string'],
    ['a number among strings', ['hello', 3], {}, TypeError, 'Expected string for texts[1] but received 3 of type number'],
    ['a misspelled option', ['hello'], { showToken: true }, TypeError, "Unknown option 'showToken' for encode. Did you mean 'showTokens'?"],
    ['a non-boolean flag', ['hello'], { isTokenized: 1 }, TypeError, 'Expected boolean for isTokenized but received 1 of type number'],
    ['tokens that are not strings', [['hello', 7]], { isTokenized: true }, TypeError, 'for texts[0]'],
    ['a bad per-call pooling', ['hello'], { pooling: 'AVG' }, RangeError, 'for pooling but received "AVG" of type string'],
  ];
  it.each(cases)('rejects %s', async (_, texts, options, type, message) => {
    const attempt = encoder.encode(texts as never, options as never);
    await expect(attempt).rejects.toBeInstanceOf(type);
    await expect(attempt).rejects.toThrow(message);
  });

  it('keeps serving after every error above', async () => {
    const result = await encoder.encode(['still here', 'and well']);
    expect(result.shape).toEqual([2, 128]);
    expect(result.data.every(Number.isFinite)).toBe(true);
  });
});
