// Many callers at once: the scheduler mixes their sentences into length-sorted batches over two
// workers, and every caller still gets, row for row, the vector its sentence gets when encoded alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Encoder } from '../../lib/index.js';
import { checkpointDir } from '../helpers/checkpoints.js';
import { expectVectorsClose } from '../helpers/compare.js';
import { stsSentences } from '../helpers/sts.js';

const sentences = stsSentences('test');
const MAX_SEQ_LEN = 64;
const OVERRIDE = { pooling: 'REDUCE_MAX', layers: [-1] } as const;

let pooled: Encoder;
let alone: Encoder;
/** each sentence encoded in a batch of its own, default pooling and OVERRIDE */
let aloneVectors: { standard: Float32Array; override: Float32Array };

beforeAll(async () => {
  pooled = await Encoder.load(checkpointDir('tiny'), { maxSeqLen: MAX_SEQ_LEN, workers: 2, maxBatchSize: 32, maxBatchTokens: 1024 });
  alone = await Encoder.load(checkpointDir('tiny'), { maxSeqLen: MAX_SEQ_LEN, maxBatchSize: 1 });
  aloneVectors = {
    standard: (await alone.encode(sentences)).data,
    override: (await alone.encode(sentences, OVERRIDE)).data,
  };
});
afterAll(async () => {
  await pooled?.close();
  await alone?.close();
});

/** Splits 0..n into requests of mixed sizes: single sentences, small calls, large calls. */
function mixedRequests(n: number): { start: number; end: number }[] {
  const sizes = [1, 7, 150, 16, 17, 3, 60, 1, 45, 200, 2, 33];
  const requests: { start: number; end: number }[] = [];
  for (let start = 0, i = 0; start < n; i++) {
    const end = Math.min(n, start + sizes[i % sizes.length]);
    requests.push({ start, end });
    start = end;
  }
  return requests;
}

describe('8 concurrent callers on the STS-B test sentences', () => {
  it('give every sentence the vector it gets alone (within 1e-5)', async () => {
    const dim = pooled.dimension;
    const requests = mixedRequests(sentences.length);
    const before = pooled.status();
    // Caller c takes every 8th request, one after another; callers 6 and 7 override the pooling.
    const callers = Array.from({ length: 8 }, async (_, caller) => {
      const options = caller >= 6 ? OVERRIDE : {};
      const reference = caller >= 6 ? aloneVectors.override : aloneVectors.standard;
      for (let r = caller; r < requests.length; r += 8) {
        const { start, end } = requests[r];
        const result = await pooled.encode(sentences.slice(start, end), options);
        expect(result.shape).toEqual([end - start, dim]);
        expectVectorsClose(result.data, reference.subarray(start * dim, end * dim), dim, 1e-5, `request ${r} (rows ${start}..${end})`);
      }
    });
    await Promise.all(callers);

    const after = pooled.status();
    expect(after.requests - before.requests).toBe(requests.length);
    expect(after.sentences - before.sentences).toBe(sentences.length);
    expect(after.outstandingSentences).toBe(0);
    expect(after.workers.every((w) => w.batches > 0)).toBe(true);
    console.log(
      `[pool] ${requests.length} requests from 8 callers: ${after.batches - before.batches} batches, ` +
        `mean batch ${after.meanBatchSize.toFixed(1)}, padding ${(100 * after.paddingRatio).toFixed(1)}%`,
    );
  });

  it('encodes one large call without caller batching, tokenizing only a window at a time', async () => {
    const many = Array.from({ length: 100_000 }, (_, i) => sentences[i % sentences.length]);
    const dim = pooled.dimension;
    let largestQueue = 0;
    const watch = setInterval(() => (largestQueue = Math.max(largestQueue, pooled.status().queuedSentences)), 1);
    const result = await pooled.encode(many);
    clearInterval(watch);
    expect(result.shape).toEqual([many.length, dim]);
    for (const row of [0, 1, 2757, 2758, 9999, 54_321, 99_999]) {
      const source = row % sentences.length;
      expectVectorsClose(result.rows()[row], aloneVectors.standard.subarray(source * dim, (source + 1) * dim), dim, 1e-5, `row ${row}`);
    }
    // The queue holds a window of tokenized sentences (4096 by default), never the whole input.
    expect(largestQueue).toBeGreaterThan(0);
    expect(largestQueue).toBeLessThanOrEqual(4096 + 256);
  });
});

describe('encodeStream', () => {
  it('yields one result per input list, in input order, equal to encoding each alone', async () => {
    const requests = mixedRequests(1200);
    async function* source(): AsyncGenerator<string[]> {
      for (const { start, end } of requests) {
        await new Promise((resolve) => setImmediate(resolve));
        yield sentences.slice(start, end);
      }
    }
    const dim = pooled.dimension;
    let index = 0;
    for await (const result of pooled.encodeStream(source())) {
      const { start, end } = requests[index];
      expect(result.shape).toEqual([end - start, dim]);
      expectVectorsClose(result.data, aloneVectors.standard.subarray(start * dim, end * dim), dim, 1e-5, `stream item ${index}`);
      index++;
    }
    expect(index).toBe(requests.length);
  });

  it('cancels what is queued when the consumer stops early', async () => {
    const chunks = Array.from({ length: 40 }, () => sentences.slice(0, 200));
    const encodedSoFar = (): number => pooled.status().workers.reduce((sum, w) => sum + w.sentences, 0);
    const before = encodedSoFar();
    let taken = 0;
    for await (const result of pooled.encodeStream(chunks)) {
      expect(result.shape[0]).toBe(200);
      if (++taken === 2) break;
    }
    // Leaving the loop aborts the calls in flight: their queued sentences are dropped.
    for (let i = 0; i < 200 && (pooled.status().outstandingSentences > 0 || pooled.status().busyWorkers > 0); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(pooled.status().outstandingSentences).toBe(0);
    expect(encodedSoFar() - before).toBeLessThan(40 * 200 / 2);
  });
});
