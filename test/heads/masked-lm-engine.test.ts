/**
 * The masked-LM head on the shared engine: mixed with other heads and callers in one scheduler,
 * long sentences within maxBatchTokens, reduced precision, export, a model without the head, and
 * argument checks.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BertEmbedError, Encoder, type EncoderOptions } from '../../lib/index.js';
import { interceptBatches, loadHookableEncoder } from '../helpers/batch-hooks.js';
import type { NativeBatch, NativeEncodeOutput } from '../../lib/native/binding.js';
import { checkpointDir } from '../helpers/checkpoints.js';
import { stsSentences } from '../helpers/sts.js';
import { makeFixtureDir, removeFixtureDir } from '../reference/helpers.js';

const SENTENCES = stsSentences('test').slice(0, 24);
const FILL = SENTENCES.slice(0, 8).map((sentence) => sentence.replace(/\b\w+\b/, '[MASK]'));

async function withEncoder<T>(name: Parameters<typeof checkpointDir>[0], options: EncoderOptions, use: (encoder: Encoder) => Promise<T>): Promise<T> {
  const encoder = await loadHookableEncoder(checkpointDir(name), options);
  try {
    return await use(encoder);
  } finally {
    await encoder.close();
  }
}

function logprobs(scores: Awaited<ReturnType<Encoder['score']>>): number[] {
  return scores.flatMap((score) => score.tokens.map((token) => token.logprob));
}

function maxDifference(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  return Math.max(...a.map((value, i) => Math.abs(value - b[i])));
}

describe('one engine, many heads', () => {
  let alone: { scores: number[]; fills: number[][]; sparse: Float32Array[]; vectors: Float32Array };
  beforeAll(async () => {
    alone = await withEncoder('mlm-tiny', { maxSeqLen: 48, maxBatchSize: 1 }, async (encoder) => ({
      scores: logprobs(await encoder.score(SENTENCES, { metric: 'original' })),
      fills: (await encoder.fillMask(FILL, { topK: 3 })).map((masks) => masks[0].map((candidate) => candidate.score)),
      sparse: (await encoder.encodeSparse(SENTENCES)).map((vector) => vector.values),
      vectors: (await encoder.encode(SENTENCES)).data,
    }));
  });

  it('answers scores, fills, sparse vectors and embeddings from concurrent callers as it does one sentence at a time', async () => {
    await withEncoder('mlm-tiny', { maxSeqLen: 48, workers: 2, maxBatchSize: 8 }, async (encoder) => {
      const [scores, fills, sparse, vectors] = await Promise.all([
        encoder.score(SENTENCES, { metric: 'original' }),
        encoder.fillMask(FILL, { topK: 3 }),
        encoder.encodeSparse(SENTENCES),
        encoder.encode(SENTENCES),
      ]);
      expect(maxDifference(logprobs(scores), alone.scores)).toBeLessThan(1e-4);
      expect(maxDifference(fills.flatMap((masks) => masks[0].map((c) => c.score)), alone.fills.flat())).toBeLessThan(1e-6);
      sparse.forEach((vector, i) => expect(maxDifference([...vector.values], [...alone.sparse[i]])).toBeLessThan(1e-4));
      expect(maxDifference([...vectors.data], [...alone.vectors])).toBeLessThan(1e-5);
    });
  });

  it('scores a 500-word sentence as rows of batches within maxBatchTokens', async () => {
    // 500 words of one piece each: 502 tokens with [CLS] and [SEP]
    const text = Array.from({ length: 500 }, (_, i) => ['the', 'cat', 'sat', 'on', 'a', 'mat'][i % 6]).join(' ');
    const maxBatchTokens = 4096;
    await withEncoder('mlm-tiny', { maxSeqLen: 512, maxBatchTokens }, async (encoder) => {
      let largest = 0;
      let rows = 0;
      interceptBatches(encoder, (batch, run) => {
        largest = Math.max(largest, batch.batchSize * batch.seqLen);
        rows += batch.batchSize;
        return run();
      });
      const [score] = await encoder.score([text], { metric: 'original' });
      expect(score.truncated).toBe(false);
      expect(score.tokens.length).toBeGreaterThanOrEqual(500);
      expect(rows).toBe(score.tokens.length); // one masked copy per token
      expect(largest).toBeLessThanOrEqual(maxBatchTokens);
      expect(score.tokens.every((token) => Number.isFinite(token.logprob) && token.logprob < 0)).toBe(true);
    });
  });
});

describe('reduced precision applies to the head', () => {
  async function scoresWith(dtype: 'float32' | 'bfloat16' | 'int8'): Promise<number[]> {
    return withEncoder('mlm-minilm-untied', { maxSeqLen: 48, dtype }, async (encoder) => logprobs(await encoder.score(SENTENCES.slice(0, 6), { metric: 'original' })));
  }
  // int8's error comes from the quantized encoder: the head alone in float32 changed it by under 2%.
  it.each([
    ['bfloat16', 0.25, 0.1],
    ['int8', 1, 0.25],
  ] as const)('%s stays close to float32 (largest |Δ logprob| < %s, mean < %s)', async (dtype, largest, mean) => {
    const [reference, reduced] = [await scoresWith('float32'), await scoresWith(dtype)];
    const differences = reduced.map((value, i) => Math.abs(value - reference[i]));
    const worst = Math.max(...differences);
    const average = differences.reduce((sum, value) => sum + value, 0) / differences.length;
    console.log(`[masked LM] ${dtype}: |Δ logprob| against float32: largest ${worst.toFixed(4)}, mean ${average.toFixed(4)}`);
    expect(worst).toBeLessThan(largest);
    expect(average).toBeLessThan(mean);
    expect(worst).toBeGreaterThan(0); // it really ran in another precision
  });
});

describe('export', () => {
  let outDir: string;
  beforeAll(() => {
    outDir = makeFixtureDir('mlm-export');
  });
  afterAll(() => removeFixtureDir(outDir));

  it('keeps the head in model.pt', async () => {
    const modelFile = await Encoder.export(checkpointDir('mlm-odd-legacy-prefixed'), outDir);
    expect(fs.existsSync(modelFile)).toBe(true);
    const exported = await Encoder.load(outDir, { maxSeqLen: 48 });
    const original = await Encoder.load(checkpointDir('mlm-odd-legacy-prefixed'), { maxSeqLen: 48 });
    try {
      expect(exported.heads).toContain('maskedLm');
      const [a, b] = await Promise.all([exported.score(SENTENCES.slice(0, 4)), original.score(SENTENCES.slice(0, 4))]);
      expect(maxDifference(logprobs(a), logprobs(b))).toBeLessThan(1e-5);
    } finally {
      await Promise.all([exported.close(), original.close()]);
    }
  });
});

describe('a checkpoint without the head', () => {
  let encoder: Encoder;
  beforeAll(async () => {
    encoder = await Encoder.load(checkpointDir('tiny'));
  });
  afterAll(() => encoder?.close());

  it('says so in heads and status', () => {
    expect(encoder.heads).toEqual(['pooled']);
    expect(encoder.status().heads).toEqual(['pooled']);
  });

  for (const call of ['score', 'fillMask', 'encodeSparse'] as const) {
    it(`rejects ${call} with ERR_NO_MLM_HEAD and keeps encoding`, async () => {
      const error = await encoder[call](['a [MASK] b']).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BertEmbedError);
      expect(error).toMatchObject({ code: 'ERR_NO_MLM_HEAD' });
      expect((error as Error).message).toMatch(/no cls\.predictions.*BertForMaskedLM/);
      expect((await encoder.encode(['still here'])).shape).toEqual([1, encoder.dimension]);
    });
  }
});

it('tokenize gives offsets into the text, across a pair', async () => {
  await withEncoder('mlm-tiny', { maxSeqLen: 32 }, async (encoder) => {
    const text = 'Héllo, WÖRLD! ||| again';
    const [tokenized] = encoder.tokenize([text]);
    const pieces = tokenized.tokens.map((token, i) => [token, text.slice(...tokenized.offsets[i])]);
    expect(pieces).toEqual([
      ['[CLS]', ''],
      ['hello', 'Héllo'],
      [',', ','],
      ['world', 'WÖRLD'],
      ['!', '!'],
      ['[SEP]', ''],
      ['again', 'again'],
      ['[SEP]', ''],
    ]);
  });
});

describe('bad input', () => {
  let encoder: Encoder;
  beforeAll(async () => {
    encoder = await Encoder.load(checkpointDir('mlm-tiny'), { maxSeqLen: 16 });
  });
  afterAll(() => encoder?.close());

  it('names the text without [MASK]', async () => {
    await expect(encoder.fillMask(['a [MASK] b', 'no mask here'])).rejects.toThrow(RangeError);
    await expect(encoder.fillMask(['a [MASK] b', 'no mask here'])).rejects.toThrow(/Expected a text with \[MASK\].* for texts\[1\] but received "no mask here"/);
  });

  it('finds no [MASK] cut off by maxSeqLen', async () => {
    await expect(encoder.fillMask([`${'word '.repeat(30)}[MASK]`])).rejects.toThrow(/maxSeqLen \(16\) tokens for texts\[0\]/);
  });

  it('checks topK, metric, texts and misspelled options', async () => {
    await expect(encoder.fillMask(['a [MASK]'], { topK: 0 })).rejects.toThrow(/Expected integer from 1 to \d+ for topK but received 0/);
    await expect(encoder.fillMask(['a [MASK]'], { topK: 1e9 })).rejects.toThrow(RangeError);
    await expect(encoder.score(['a b'], { metric: 'bogus' as never })).rejects.toThrow(/metric/);
    await expect(encoder.score(['a', 3 as never])).rejects.toThrow(/texts\[1\]/);
    await expect(encoder.score(['a'], { metirc: 'original' } as never)).rejects.toThrow(/Did you mean 'metric'/);
    await expect(encoder.encodeSparse('a' as never)).rejects.toThrow(TypeError);
  });

  it('checks maskedLmLogProbs rows against the model', async () => {
    const row = { ids: [101, 103, 102], typeIds: [0, 0, 0], positions: [1], targets: [2000] };
    const [logprobs] = await encoder.maskedLmLogProbs([row]);
    expect(logprobs[0]).toBeLessThan(0);
    await expect(encoder.maskedLmLogProbs([{ ...row, ids: [101, 1e9, 102] }])).rejects.toThrow(/rows\[0\]\.ids\[1\]/);
    await expect(encoder.maskedLmLogProbs([{ ...row, positions: [3] }])).rejects.toThrow(/rows\[0\]\.positions\[0\]/);
    await expect(encoder.maskedLmLogProbs([{ ...row, typeIds: [0] }])).rejects.toThrow(/rows\[0\]\.typeIds\.length/);
  });

  it('cancels a score call with its signal', async () => {
    const controller = new AbortController();
    const call = encoder.score(SENTENCES, { signal: controller.signal });
    controller.abort();
    await expect(call).rejects.toThrow(/abort/i);
    expect((await encoder.score(['still scoring']))[0].tokens.length).toBe(2);
  });
});
