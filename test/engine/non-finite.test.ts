// Never emit invalid output (issue 12): a NaN or an infinity in what a replica returns fails the
// call it belongs to with ERR_NON_FINITE naming its row, whatever the head; the other calls of the
// same batch get their answers, and the encoder goes on serving. The NaN is injected by wrapping a
// replica's encode, as scheduling.test.ts's interceptBatches does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BertEmbedError, Encoder } from '../../lib/index.js';
import { interceptBatches, loadHookableEncoder } from '../helpers/batch-hooks.js';
import type { NativeBatch, NativeEncodeOutput } from '../../lib/native/binding.js';
import { checkpointDir } from '../helpers/checkpoints.js';
import { expectVectorsClose } from '../helpers/compare.js';
import { stsSentences } from '../helpers/sts.js';

const sentences = stsSentences('dev');

/** Every batch of the (only) replica goes through `poison`, which may overwrite its output. */
function poisonOutputs(encoder: Encoder, poison: (batch: NativeBatch, output: NativeEncodeOutput) => void): void {
  interceptBatches(encoder, async (batch, run) => {
    const output = await run();
    poison(batch, output);
    return output;
  });
}

/** The batch row holding `ids` (a sentence's tokens), or -1. */
function rowOf(batch: NativeBatch, ids: number[]): number {
  for (let row = 0; row < batch.batchSize; row++) {
    if (batch.lengths[row] !== ids.length) continue;
    const start = row * batch.seqLen;
    if (ids.every((id, i) => batch.ids[start + i] === id)) return row;
  }
  return -1;
}

/** Sets element `element` of the batch row holding `text` to `value`; a row's width is the output's size over the batch. */
function poisonSentence(encoder: Encoder, text: string, value: number, element = 3): void {
  const [{ ids }] = encoder.tokenize([text]);
  poisonOutputs(encoder, (batch, output) => {
    const row = rowOf(batch, ids);
    if (row < 0) return;
    const width = output.data.length / batch.batchSize;
    output.data[row * width + element] = value;
  });
}

describe('a non-finite answer', () => {
  let encoder: Encoder;
  let reference: Encoder;
  beforeAll(async () => {
    encoder = await loadHookableEncoder(checkpointDir('tiny'), { workers: 1, maxSeqLen: 64, maxBatchSize: 32 });
    reference = await Encoder.load(checkpointDir('tiny'), { workers: 1, maxSeqLen: 64, maxBatchSize: 1 });
  });
  afterAll(async () => {
    await encoder?.close();
    await reference?.close();
  });

  it('fails its own call with ERR_NON_FINITE naming the row; the calls batched with it are answered', async () => {
    const [a, b, c] = [sentences.slice(0, 3), sentences.slice(3, 6), sentences.slice(6, 9)];
    poisonSentence(encoder, b[1], Number.NaN);
    let poisonedBatchSize = 0;
    const [{ ids }] = encoder.tokenize([b[1]]);
    poisonOutputs(encoder, (batch) => {
      if (rowOf(batch, ids) >= 0) poisonedBatchSize = batch.batchSize;
    });
    // While the replica runs the first call, the three others queue up and share the next batch.
    const blocker = encoder.encode([sentences[20]]);
    const calls = [encoder.encode(a), encoder.encode(b), encoder.encode(c)];
    await blocker;
    const [first, second, third] = await Promise.allSettled(calls);
    expect(second.status).toBe('rejected');
    const error = (second as PromiseRejectedResult).reason as BertEmbedError & { row: number; value: number };
    expect(error).toBeInstanceOf(BertEmbedError);
    expect(error.code).toBe('ERR_NON_FINITE');
    expect(error.row).toBe(1);
    expect(error.value).toBeNaN();
    expect(error.message).toMatch(/^The model's output for row 1 of the call is not finite \(NaN at element 3 of 128\)/);
    // One batch held all three calls: the failure is confined to its call, not to its batch.
    expect(poisonedBatchSize).toBe(9);
    expect(first.status).toBe('fulfilled');
    expect(third.status).toBe('fulfilled');
    expectVectorsClose((first as PromiseFulfilledResult<{ data: Float32Array }>).value.data, (await reference.encode(a)).data, 128, 1e-5, 'first call');
    expectVectorsClose((third as PromiseFulfilledResult<{ data: Float32Array }>).value.data, (await reference.encode(c)).data, 128, 1e-5, 'third call');
    // The encoder goes on: the same sentences without it are answered, it fails again alone.
    expect((await encoder.encode([b[0], b[2]])).shape).toEqual([2, 128]);
    await expect(encoder.encode([b[1]])).rejects.toMatchObject({ code: 'ERR_NON_FINITE', row: 0 });
    expect(encoder.status().outstandingSentences).toBe(0);
  });

  it('fails a call that spans several batches, and an infinity as a NaN, in token vectors too', async () => {
    const many = sentences.slice(100, 200); // four batches of 32
    poisonSentence(encoder, many[70], Number.NEGATIVE_INFINITY, 5);
    await expect(encoder.encode(many)).rejects.toMatchObject({ code: 'ERR_NON_FINITE', row: 70, value: Number.NEGATIVE_INFINITY });
    await expect(encoder.encode([many[70]], { pooling: 'NONE' })).rejects.toMatchObject({ code: 'ERR_NON_FINITE', row: 0 });
    expect((await encoder.encode(many.slice(0, 70))).shape).toEqual([70, 128]);
  });
});

describe('every head', () => {
  let encoder: Encoder;
  beforeAll(async () => {
    encoder = await loadHookableEncoder(checkpointDir('mlm-tiny'), { workers: 1, maxSeqLen: 48, maxBatchSize: 16 });
  });
  afterAll(() => encoder?.close());

  it('fill-mask, scores and sparse vectors fail on an infinity too', async () => {
    const masked = ['Paris is the [MASK] of France.', 'The [MASK] sat on the mat.'];
    poisonSentence(encoder, masked[1], Number.POSITIVE_INFINITY, 0);
    await expect(encoder.fillMask(masked, { topK: 3 })).rejects.toMatchObject({ code: 'ERR_NON_FINITE', row: 1, value: Number.POSITIVE_INFINITY });
    expect(await encoder.fillMask([masked[0]], { topK: 3 })).toHaveLength(1);
    await expect(encoder.encodeSparse(['a sentence', masked[1]])).rejects.toMatchObject({ code: 'ERR_NON_FINITE', row: 1 });
  });

  it('a score fails when one of its masked copies is not finite', async () => {
    const text = 'A man is playing a guitar.';
    const [{ ids }] = encoder.tokenize([text]);
    // Each masked copy of the sentence has its length; poison the first copy seen.
    let poisoned = false;
    poisonOutputs(encoder, (batch, output) => {
      if (poisoned) return;
      for (let row = 0; row < batch.batchSize; row++) {
        if (batch.lengths[row] !== ids.length) continue;
        output.data[row * (output.data.length / batch.batchSize)] = Number.NaN;
        poisoned = true;
        return;
      }
    });
    await expect(encoder.score([text])).rejects.toMatchObject({ code: 'ERR_NON_FINITE' });
    expect(poisoned).toBe(true);
    const [score] = await encoder.score([text]);
    expect(Number.isFinite(score.pll)).toBe(true);
  });
});
