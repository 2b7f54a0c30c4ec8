// The same reference parity through every way a model can arrive: F16/BF16 safetensors with
// `bert.` prefixes and old LayerNorm names, a model.pt written by Encoder.export, and a
// TorchScript file traced from a Hugging Face-style BertModel.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Encoder, type EncoderOptions } from '../../lib/index.js';
import { loadReferenceModel, referenceEncode } from '../reference/bert-f64.js';
import { makeFixtureDir, removeFixtureDir, traceCheckpoint } from '../reference/helpers.js';
import { checkpointDir, type CheckpointName } from '../helpers/checkpoints.js';
import { expectVectorsClose } from '../helpers/compare.js';
import { stsSentences } from '../helpers/sts.js';

const SENTENCES = [...stsSentences('dev').slice(0, 6), 'A woman is slicing an onion. ||| Someone cuts an onion.'];
const POOLINGS: EncoderOptions[] = [
  { pooling: 'REDUCE_MEAN', layers: [-2], maxSeqLen: 20 },
  { pooling: 'CLS_TOKEN', layers: [-1, 0], maxSeqLen: 20 },
  { pooling: 'REDUCE_MEAN_MAX', layers: [-1], maskClsSep: true, normalize: true, maxSeqLen: 20 },
  { pooling: 'NONE', layers: [-1], maxSeqLen: 20 },
];

/** Loads `modelPath` with each pooling given at load time and compares with the reference of `checkpoint`. */
async function expectReferenceParity(modelPath: string, checkpoint: string): Promise<void> {
  const reference = loadReferenceModel(checkpoint);
  for (const options of POOLINGS) {
    const encoder = await Encoder.load(modelPath, options);
    try {
      const result = await encoder.encode(SENTENCES);
      const tokenized = encoder.tokenize(SENTENCES);
      result.rows().forEach((row, i) => {
        const expected = referenceEncode(reference, tokenized[i].ids, {
          pooling: encoder.options.pooling,
          layers: encoder.options.layers,
          maskClsSep: encoder.options.maskClsSep,
          normalize: encoder.options.normalize,
          maxSeqLen: encoder.options.maxSeqLen,
          clsId: encoder.tokenizer.clsId,
          sepId: encoder.tokenizer.sepId,
        }, tokenized[i].typeIds);
        expectVectorsClose(row, expected, encoder.dimension, 1e-4, `${path.basename(modelPath)} ${options.pooling} sentence ${i}`);
      });
    } finally {
      await encoder.close();
    }
  }
}

describe('Hugging Face safetensors variants', () => {
  it.each<CheckpointName>(['odd-f16-prefixed', 'tiny-bf16-legacy'])('%s matches the reference', async (name) => {
    await expectReferenceParity(checkpointDir(name), checkpointDir(name));
  });
});

describe('exported model.pt', () => {
  let outDir: string;
  beforeAll(() => {
    outDir = makeFixtureDir('exported');
  });
  afterAll(() => removeFixtureDir(outDir));

  it('writes model.pt with its config and vocabulary, and loads it without the safetensors', async () => {
    const modelFile = await Encoder.export(checkpointDir('odd'), outDir);
    expect(modelFile).toBe(path.join(outDir, 'model.pt'));
    for (const file of ['model.pt', 'config.json', 'vocab.txt']) expect(fs.existsSync(path.join(outDir, file))).toBe(true);
    expect(fs.existsSync(path.join(outDir, 'model.safetensors'))).toBe(false);
    await expectReferenceParity(outDir, checkpointDir('odd'));
  });

  it('loads by file path too', async () => {
    const encoder = await Encoder.load(path.join(outDir, 'model.pt'), { maxSeqLen: 20 });
    const [fromFile] = (await encoder.encode(['file path'])).rows();
    await encoder.close();
    const byDir = await Encoder.load(checkpointDir('odd'), { maxSeqLen: 20 });
    const [fromCheckpoint] = (await byDir.encode(['file path'])).rows();
    await byDir.close();
    expectVectorsClose(fromFile, Float64Array.from(fromCheckpoint), fromFile.length, 1e-5);
  });
});

describe('TorchScript traced from a Hugging Face-style BertModel', () => {
  let tracedDir: string;
  beforeAll(() => {
    tracedDir = makeFixtureDir('traced');
    for (const file of ['config.json', 'vocab.txt', 'tokenizer_config.json']) {
      fs.copyFileSync(path.join(checkpointDir('tiny'), file), path.join(tracedDir, file));
    }
    traceCheckpoint(checkpointDir('tiny'), path.join(tracedDir, 'bert-traced.pt'));
  });
  afterAll(() => removeFixtureDir(tracedDir));

  it('matches the reference for every pooling', async () => {
    await expectReferenceParity(path.join(tracedDir, 'bert-traced.pt'), checkpointDir('tiny'));
  });

  it('refuses dtype int8 for a traced model (its linear layers are not ours to quantize)', async () => {
    await expect(Encoder.load(path.join(tracedDir, 'bert-traced.pt'), { dtype: 'int8' })).rejects.toMatchObject({
      name: 'BertEmbedError',
      code: 'ERR_UNSUPPORTED',
      message: "dtype 'int8' needs a model this engine compiles: a Hugging Face checkpoint, or a model.pt exported by this version",
    });
  });

  it('refuses to export a traced model again', async () => {
    fs.copyFileSync(path.join(tracedDir, 'bert-traced.pt'), path.join(tracedDir, 'model.pt'));
    await expect(Encoder.export(tracedDir, path.join(tracedDir, 'again'))).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED' });
  });
});
