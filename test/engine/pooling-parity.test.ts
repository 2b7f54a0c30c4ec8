// Every pooling strategy, several layer lists, maskClsSep and normalize, on three model shapes,
// against the independent float64 reference in test/reference/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Encoder, POOLING_STRATEGIES, type PoolingStrategy } from '../../lib/index.js';
import { loadReferenceModel, referenceHiddenStates, referencePool, type ReferenceModel } from '../reference/bert-f64.js';
import { checkpointDir, type CheckpointName } from '../helpers/checkpoints.js';
import { expectVectorsClose } from '../helpers/compare.js';
import { stsSentences } from '../helpers/sts.js';

const MAX_SEQ_LEN = 24;
// Mixed lengths in one batch (so padding is exercised), a pair, a truncated sentence, one word.
const SENTENCES = [
  ...stsSentences('test').slice(0, 5),
  'A man is playing a flute. ||| A man plays the flute.',
  'word',
  'This sentence is long enough that twenty-four word pieces cannot hold all of it, so truncation has to cut it short.',
];

function layerLists(numLayers: number): number[][] {
  return [[-1], [-2], [0], [1, -1], [-numLayers - 1, ...Array.from({ length: numLayers }, (_, i) => i + 1)]];
}

const MODELS: CheckpointName[] = ['tiny', 'odd', 'minilm'];

describe.each(MODELS)('pooling parity with the float64 reference: %s', (name) => {
  let encoder: Encoder;
  let reference: ReferenceModel;
  let tokenized: { ids: number[]; typeIds: number[] }[];
  let hiddenStates: Float64Array[][];

  beforeAll(async () => {
    encoder = await Encoder.load(checkpointDir(name), { maxSeqLen: MAX_SEQ_LEN });
    reference = loadReferenceModel(checkpointDir(name));
    tokenized = encoder.tokenize(SENTENCES);
    hiddenStates = tokenized.map((t) => referenceHiddenStates(reference, t.ids, t.typeIds));
  });
  afterAll(() => encoder?.close());

  it('tokenizes pairs with type ids and truncates to maxSeqLen', () => {
    expect(tokenized[5].typeIds).toContain(1);
    expect(tokenized[7].ids.length).toBe(MAX_SEQ_LEN);
    expect(Math.min(...tokenized.map((t) => t.ids.length))).toBeLessThan(MAX_SEQ_LEN);
  });

  const combinations = POOLING_STRATEGIES.flatMap((pooling) =>
    [false, true].map((maskClsSep) => ({ pooling, maskClsSep, normalize: maskClsSep && pooling !== 'REDUCE_MAX' })),
  );

  it.each(combinations)('$pooling, maskClsSep $maskClsSep, normalize $normalize, every layer list', async ({ pooling, maskClsSep, normalize }) => {
    const hidden = encoder.config.hiddenSize;
    for (const layers of layerLists(encoder.config.numLayers)) {
      const result = await encoder.encode(SENTENCES, { pooling: pooling as PoolingStrategy, layers, maskClsSep, normalize });
      const width = hidden * layers.length * (pooling === 'REDUCE_MEAN_MAX' ? 2 : 1);
      expect(result.shape).toEqual(pooling === 'NONE' ? [SENTENCES.length, MAX_SEQ_LEN, width] : [SENTENCES.length, width]);
      result.rows().forEach((row, i) => {
        const expected = referencePool(hiddenStates[i], tokenized[i].ids, hidden, {
          pooling: pooling as PoolingStrategy,
          layers,
          maskClsSep,
          normalize,
          maxSeqLen: MAX_SEQ_LEN,
          clsId: encoder.tokenizer.clsId,
          sepId: encoder.tokenizer.sepId,
        });
        expectVectorsClose(row, expected, width, 1e-4, `${name} ${pooling} layers ${layers} sentence ${i}`);
      });
    }
  });

  it('gives a sentence the same vector alone as in a batch beside longer ones', async () => {
    const batch = await encoder.encode(SENTENCES);
    for (const [i, sentence] of SENTENCES.entries()) {
      const alone = await encoder.encode([sentence]);
      expectVectorsClose(alone.data, Float64Array.from(batch.rows()[i]), encoder.dimension, 1e-5, `sentence ${i}`);
    }
  });
});
