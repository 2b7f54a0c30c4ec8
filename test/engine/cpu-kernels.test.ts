// The CPU kernels (native/cpu) where the other parity tests do not reach: sentences of hundreds of
// tokens beside short ones (many 16-key blocks, padded keys), a head size of 24 (not a whole number
// of the attention kernel's 16-float blocks), and dtypes 'bfloat16' and 'int8' on the same sentences.
// Against the float64 reference.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Encoder, libtorchInfo } from '../../lib/index.js';
import { loadReferenceModel, referenceEncode, type ReferenceModel, type ReferencePoolingOptions } from '../reference/bert-f64.js';
import { randomIds } from '../reference/helpers.js';
import { checkpointDir } from '../helpers/checkpoints.js';
import { cosine, expectVectorsClose } from '../helpers/compare.js';

// Not a multiple of 16, so the longest sentence leaves the kernel keys to pad too.
const MAX_SEQ_LEN = 300;
// Word counts: one word, around a 16-key block boundary, and long.
const WORD_COUNTS = [1, 13, 14, 15, 60, 250, 400];

function sentencesOfVocabularyWords(dir: string): string[] {
  const words = fs.readFileSync(path.join(dir, 'vocab.txt'), 'utf8').split('\n').slice(2000, 29000).filter((w) => /^[a-z]+$/.test(w));
  return WORD_COUNTS.map((count, i) => randomIds(40 + i, count, 0, words.length).map((k) => words[k]).join(' '));
}

describe('CPU kernels against the float64 reference: long sentences, head size 24', () => {
  const dir = checkpointDir('heads24-long');
  let reference: ReferenceModel;
  let sentences: string[];

  beforeAll(() => {
    reference = loadReferenceModel(dir);
    sentences = sentencesOfVocabularyWords(dir);
  });

  for (const pooling of ['REDUCE_MEAN', 'CLS_TOKEN'] as const) {
    it(`float32, ${pooling}: every sentence within 1e-4 of the reference`, async () => {
      const encoder = await Encoder.load(dir, { maxSeqLen: MAX_SEQ_LEN, pooling, layers: [-1] });
      try {
        const tokenized = encoder.tokenize(sentences);
        expect(Math.max(...tokenized.map((t) => t.ids.length))).toBe(MAX_SEQ_LEN);
        const options: ReferencePoolingOptions = { pooling, layers: [-1], maskClsSep: false, normalize: false, clsId: 101, sepId: 102 };
        const expected = tokenized.map((t) => Array.from(referenceEncode(reference, t.ids, options, t.typeIds))).flat();
        // One batch padded to the longest sentence, then each sentence alone (its own length, so the
        // kernel pads the keys to a whole block itself).
        expectVectorsClose((await encoder.encode(sentences)).data, expected, encoder.dimension, 1e-4, `${pooling}, one batch`);
        for (const [i, sentence] of sentences.entries()) {
          const alone = (await encoder.encode([sentence])).data;
          expectVectorsClose(alone, expected.slice(i * encoder.dimension, (i + 1) * encoder.dimension), encoder.dimension, 1e-4, `${pooling}, sentence ${i} alone`);
        }
      } finally {
        await encoder.close();
      }
    });
  }

  // Each sentence's cosine between this dtype's vector and the float64 reference's.
  async function cosinesToReference(dtype: 'bfloat16' | 'int8'): Promise<number[]> {
    const encoder = await Encoder.load(dir, { maxSeqLen: MAX_SEQ_LEN, dtype });
    try {
      const tokenized = encoder.tokenize(sentences);
      const options: ReferencePoolingOptions = { pooling: 'REDUCE_MEAN', layers: [-2], maskClsSep: false, normalize: false, clsId: 101, sepId: 102 };
      const rows = (await encoder.encode(sentences)).rows();
      return tokenized.map((t, i) => cosine(rows[i], referenceEncode(reference, t.ids, options, t.typeIds)));
    } finally {
      await encoder.close();
    }
  }

  // Where the CPU has avx512_bf16 or AMX: oneDNN's bf16 products on shapes that are no whole number
  // of its blocks (72, 150), the rest float32; elsewhere torch's bfloat16 throughout.
  it('bfloat16: cosine to the float64 reference at least 0.999 for every sentence', async () => {
    const cosines = await cosinesToReference('bfloat16');
    const path = libtorchInfo().oneDnnBf16Linear ? 'oneDNN bf16 linear kernels' : "torch's bfloat16";
    console.log(`[cpu kernels] bfloat16 (${path}) cosines to the float64 reference: ${cosines.map((c) => c.toFixed(5)).join(', ')}`);
    for (const c of cosines) expect(c).toBeGreaterThanOrEqual(0.999);
  });

  it("int8: cosine to the float64 reference at least 0.99 for every sentence", async () => {
    const cosines = await cosinesToReference('int8');
    console.log(`[cpu kernels] int8 cosines to the float64 reference: ${cosines.map((c) => c.toFixed(5)).join(', ')}`);
    for (const c of cosines) expect(c).toBeGreaterThanOrEqual(0.99);
  });
});
