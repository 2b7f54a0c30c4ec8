// Scheduling rules on a real model: small calls first, cancellation, backpressure, failures
// confined to their batch, out-of-memory splitting, and the status report.
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BertEmbedError, Encoder, libtorchInfo, type EncoderOptions } from '../../lib/index.js';
import { interceptBatches, loadHookableEncoder } from '../helpers/batch-hooks.js';
import { nativeBinding, type NativeBatch, type NativeEncodeOutput } from '../../lib/native/binding.js';
import { checkpointDir } from '../helpers/checkpoints.js';
import { expectVectorsClose } from '../helpers/compare.js';
import { stsSentences } from '../helpers/sts.js';

const sentences = stsSentences('dev');
const hasCuda = nativeBinding().cudaDeviceCount() > 0;
if (hasCuda) console.warn('[skipped] CUDA is present: the load-failure test on a CPU-only build does not apply');
const OPTIONS = { maxSeqLen: 64, maxBatchSize: 16 } as const;

let reference: Encoder;
beforeAll(async () => {
  reference = await Encoder.load(checkpointDir('tiny'), { ...OPTIONS, maxBatchSize: 1 });
});
afterAll(() => reference?.close());

/** A fresh tiny encoder with OPTIONS (and `options`) for `use`, closed afterwards whatever happens. */
async function withEncoder(options: EncoderOptions, use: (encoder: Encoder) => Promise<void>): Promise<Encoder> {
  const encoder = await loadHookableEncoder(checkpointDir('tiny'), { ...OPTIONS, ...options });
  try {
    await use(encoder);
  } finally {
    await encoder.close();
  }
  return encoder;
}

async function expectAsAlone(encoder: Encoder, texts: string[], actual: Float32Array, label: string): Promise<void> {
  expectVectorsClose(actual, (await reference.encode(texts)).data, encoder.dimension, 1e-5, label);
}

describe('priority', () => {
  for (const priorityBatchSize of [16, 0]) {
    it(`${priorityBatchSize ? 'lets a small call jump ahead of' : 'without priority, leaves a small call behind'} a large one`, async () => {
      await withEncoder({ workers: 1, priorityBatchSize }, async (encoder) => {
        const large = encoder.encode(sentences.slice(0, 1500));
        const small = encoder.encode(sentences.slice(1500, 1503));
        const order: string[] = [];
        let batchesBeforeSmall = -1;
        await Promise.all([
          large.then(() => order.push('large')),
          small.then(() => {
            order.push('small');
            batchesBeforeSmall = encoder.status().batches;
          }),
        ]);
        const total = encoder.status().batches;
        expect(total).toBeGreaterThanOrEqual(1500 / 16);
        if (priorityBatchSize) {
          expect(order).toEqual(['small', 'large']);
          // At most the batch already running, then the small call's own.
          expect(batchesBeforeSmall).toBeLessThanOrEqual(2);
        } else {
          // Its sentences wait in their length buckets behind the large call's.
          expect(batchesBeforeSmall).toBeGreaterThan(5);
        }
        console.log(`[pool] priorityBatchSize ${priorityBatchSize}: the 3-sentence call finished after ${batchesBeforeSmall} of ${total} batches`);
        await expectAsAlone(encoder, sentences.slice(1500, 1503), (await small).data, 'small call');
      });
    });
  }
});

describe('fairness', () => {
  it('does not let a stream of small calls starve a large one', async () => {
    await withEncoder({ workers: 1 }, async (encoder) => {
      let largeDone = false;
      const large = encoder.encode(sentences.slice(0, 200)).then((result) => {
        largeDone = true;
        return result;
      });
      // Twelve callers each keep a 5-sentence call waiting until the large call is done (or a cap
      // is hit): a batch takes three of them, so small work is always queued when a batch ends.
      let smallCalls = 0;
      const cap = 3000;
      await Promise.all(
        Array.from({ length: 12 }, async (_, caller) => {
          while (!largeDone && smallCalls < cap) {
            await encoder.encode(sentences.slice(300 + caller * 5, 305 + caller * 5));
            smallCalls++;
          }
        }),
      );
      expect(largeDone).toBe(true);
      // 200 sentences are 13 batches of 16; at most 4 small batches (3 calls each) run before each.
      expect(smallCalls).toBeLessThanOrEqual(14 * 4 * 3 + 12);
      await expectAsAlone(encoder, sentences.slice(0, 200), (await large).data, 'large call');
    });
  });
});

describe('cancellation', () => {
  it('drops the queued sentences of an aborted call and keeps serving the others', async () => {
    await withEncoder({ workers: 1 }, async (encoder) => {
      const controller = new AbortController();
      const doomed = encoder.encode(sentences.slice(0, 1000), { signal: controller.signal });
      const other = encoder.encode(sentences.slice(1000, 1100));
      while (encoder.status().batches === 0) await new Promise((resolve) => setImmediate(resolve));
      controller.abort(new Error('caller gave up'));
      await expect(doomed).rejects.toThrow('caller gave up');
      const otherResult = await other;
      await encoder.close();
      const status = encoder.status();
      // The aborted call's sentences beyond what was already running were never encoded.
      expect(status.workers[0].sentences).toBeLessThan(100 + 1000 / 2);
      expect(status.outstandingSentences).toBe(0);
      await expectAsAlone(encoder, sentences.slice(1000, 1100), otherResult.data, 'the other call');
    });
  });

  it('rejects at once when the signal is already aborted', async () => {
    await withEncoder({}, async (encoder) => {
      await expect(encoder.encode(['never'], { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
      expect(encoder.status().batches).toBe(0);
      await expect(encoder.encode(['x'], { signal: 'stop' as unknown as AbortSignal })).rejects.toThrow(
        new TypeError('Expected AbortSignal for signal but received "stop" of type string'),
      );
    });
  });
});

describe('backpressure', () => {
  it('refuses a call past maxQueuedSentences with ERR_OVERLOADED, then accepts once drained', async () => {
    await withEncoder({ maxQueuedSentences: 100 }, async (encoder) => {
      const first = encoder.encode(sentences.slice(0, 80));
      const refused = encoder.encode(sentences.slice(80, 110));
      await expect(refused).rejects.toBeInstanceOf(BertEmbedError);
      await expect(refused).rejects.toMatchObject({ code: 'ERR_OVERLOADED' });
      await expect(refused).rejects.toThrow(/80 sentences are waiting and this call adds 30, over maxQueuedSentences 100/);
      const fits = encoder.encode(sentences.slice(80, 100)); // 80 + 20 is within the limit
      await expectAsAlone(encoder, sentences.slice(0, 80), (await first).data, 'first call');
      await expectAsAlone(encoder, sentences.slice(80, 100), (await fits).data, 'call within the limit');
      await expectAsAlone(encoder, sentences.slice(80, 110), (await encoder.encode(sentences.slice(80, 110))).data, 'retried call');
    });
  });
});

describe('a call larger than the queue', () => {
  it('is refused for good with ERR_TOO_MANY_SENTENCES, in the API\'s words', async () => {
    await withEncoder({ maxQueuedSentences: 10 }, async (encoder) => {
      await expect(encoder.encode(sentences.slice(0, 11))).rejects.toMatchObject({
        code: 'ERR_TOO_MANY_SENTENCES',
        message: 'Expected at most 10 queued sentences in one call (maxQueuedSentences) for texts but received 11 sentences; split the call',
      });
      expect(encoder.status().outstandingSentences).toBe(0);
      expect((await encoder.encode(sentences.slice(0, 10))).shape[0]).toBe(10);
    });
  });
});

describe('failures', () => {
  it('fail only the calls that had sentences in the failing batch', async () => {
    await withEncoder({ workers: 1 }, async (encoder) => {
      const poison = encoder.tokenizer.tokenToId('zebra')!;
      expect(poison).toBeGreaterThan(0);
      interceptBatches(encoder, (batch, run) =>
        batch.ids.includes(poison) ? Promise.reject(Object.assign(new Error('injected failure'), { code: 'ERR_TORCH' })) : run(),
      );
      // The poisoned call is small (the priority queue), the others large: they never share a batch.
      const calls = [
        encoder.encode(sentences.slice(0, 200)),
        encoder.encode(['a zebra crosses the road', 'and nothing else']),
        encoder.encode(sentences.slice(200, 450)),
      ];
      const [before, poisoned, after] = await Promise.allSettled(calls);
      expect(poisoned).toMatchObject({ status: 'rejected', reason: { name: 'BertEmbedError', code: 'ERR_TORCH', message: 'injected failure' } });
      expect(before.status).toBe('fulfilled');
      expect(after.status).toBe('fulfilled');
      await expectAsAlone(encoder, sentences.slice(0, 200), (before as PromiseFulfilledResult<{ data: Float32Array }>).value.data, 'call before');
      await expectAsAlone(encoder, sentences.slice(200, 450), (after as PromiseFulfilledResult<{ data: Float32Array }>).value.data, 'call after');
      // And the encoder keeps serving.
      await expectAsAlone(encoder, sentences.slice(0, 5), (await encoder.encode(sentences.slice(0, 5))).data, 'later call');
    });
  });

  it('shared by several calls, run each call again on its own: only the call whose rows fail is rejected', async () => {
    await withEncoder({ workers: 1 }, async (encoder) => {
      const poison = encoder.tokenizer.tokenToId('zebra')!;
      const sizes: number[] = [];
      interceptBatches(encoder, (batch, run) => {
        sizes.push(batch.batchSize);
        return batch.ids.includes(poison) ? Promise.reject(Object.assign(new Error('injected failure'), { code: 'ERR_TORCH' })) : run();
      });
      // While the replica runs the first call, the other three queue and share the next batch.
      const blocker = encoder.encode(sentences.slice(0, 1));
      const texts = [sentences.slice(1, 3), ['a zebra crosses the road', 'and nothing else'], sentences.slice(3, 6)];
      const [first, poisoned, third] = await Promise.allSettled(texts.map((t) => encoder.encode(t)));
      await blocker;
      // The shared batch of 7 fails; then each call's rows alone (in the batch's order, by length).
      expect(sizes.slice(0, 2)).toEqual([1, 7]);
      expect(sizes.slice(2).sort()).toEqual([2, 2, 3]);
      expect(poisoned).toMatchObject({ status: 'rejected', reason: { code: 'ERR_TORCH', message: 'injected failure' } });
      await expectAsAlone(encoder, texts[0], (first as PromiseFulfilledResult<{ data: Float32Array }>).value.data, 'first call');
      await expectAsAlone(encoder, texts[2], (third as PromiseFulfilledResult<{ data: Float32Array }>).value.data, 'third call');
    });
  });

  it('split a batch that runs out of memory and retry the halves', async () => {
    await withEncoder({ workers: 1 }, async (encoder) => {
      const sizes: number[] = [];
      interceptBatches(encoder, (batch, run) => {
        sizes.push(batch.batchSize);
        if (batch.batchSize > 3) return Promise.reject(Object.assign(new Error('CUDA out of memory (injected)'), { code: 'ERR_OUT_OF_MEMORY' }));
        return run();
      });
      const result = await encoder.encode(sentences.slice(0, 100));
      await expectAsAlone(encoder, sentences.slice(0, 100), result.data, 'after splitting');
      // 16 fails, its halves 8 fail, their halves 4 fail, then 2 + 2 run.
      expect(sizes.slice(0, 5)).toEqual([16, 8, 4, 2, 2]);
      // A single sentence that still does not fit fails its call.
      interceptBatches(encoder, () => Promise.reject(Object.assign(new Error('CUDA out of memory (injected)'), { code: 'ERR_OUT_OF_MEMORY' })));
      await expect(encoder.encode(sentences.slice(0, 20))).rejects.toMatchObject({ code: 'ERR_OUT_OF_MEMORY' });
    });
  });
});

describe('workers and status', () => {
  it('places workers round-robin and splits the cores between CPU workers', async () => {
    await withEncoder({ devices: ['cpu'], workers: 2 }, async (encoder) => {
      expect(encoder.options.workers).toBe(2);
      const share = Math.max(1, Math.floor(os.availableParallelism() / 2));
      // The share goes to whatever runs the linear layers: oneDNN's OpenMP threads, else OpenBLAS.
      const expected = libtorchInfo().oneDnnLinear ? { threads: share, blasThreads: 1 } : { threads: 1, blasThreads: share };
      expect({ threads: encoder.options.threads, blasThreads: encoder.options.blasThreads }).toEqual(expected);
      const status = encoder.status();
      expect(status.devices).toEqual(['cpu', 'cpu']);
      expect(status.workers.map((w) => w.device)).toEqual(['cpu', 'cpu']);
    });
  });

  // With a CUDA device present this failure cannot happen; the test is skipped and says so.
  it.skipIf(hasCuda)('fails the whole load, closing the replicas that loaded, when one device cannot serve', async () => {
    await expect(Encoder.load(checkpointDir('tiny'), { ...OPTIONS, devices: ['cpu', 'cuda:0'] })).rejects.toMatchObject({
      name: 'BertEmbedError',
      code: 'ERR_CUDA_UNAVAILABLE',
    });
  });

  it('reports configuration, counters, padding and queue like server_status', async () => {
    const closed = await withEncoder({ workers: 1 }, async (encoder) => {
      const texts = sentences.slice(0, 300);
      const tokenized = encoder.tokenize(texts);
      await Promise.all([encoder.encode(texts), encoder.encode(texts.slice(0, 3))]);
      const status = encoder.status();
      const tokens = tokenized.reduce((sum, t) => sum + t.ids.length, 0) + tokenized.slice(0, 3).reduce((sum, t) => sum + t.ids.length, 0);
      expect(status).toMatchObject({ requests: 2, sentences: 303, tokens, queuedSentences: 0, outstandingSentences: 0, busyWorkers: 0, closed: false });
      expect(status.options).toMatchObject({ maxSeqLen: 64, maxBatchSize: 16, devices: ['cpu'], workers: 1 });
      expect(status.batches).toBe(status.workers[0].batches);
      expect(status.workers[0].sentences).toBe(303);
      expect(status.meanBatchSize).toBeCloseTo(303 / status.batches, 10);
      expect(status.paddingRatio).toBeGreaterThanOrEqual(0);
      expect(status.paddingRatio).toBeLessThan(0.2);
      expect(status.workers[0].busyMs).toBeGreaterThan(0);
      expect(status.uptimeMs).toBeGreaterThanOrEqual(0);
      expect(typeof status.torchVersion).toBe('string');
    });
    expect(closed.status().closed).toBe(true);
  });

  it('validates the pool options', async () => {
    const dir = checkpointDir('tiny');
    await expect(Encoder.load(dir, { workers: 0 })).rejects.toThrow(new RangeError('Expected integer from 1 to 1024 for workers but received 0 of type number'));
    await expect(Encoder.load(dir, { devices: [] })).rejects.toThrow(TypeError);
    await expect(Encoder.load(dir, { devices: ['cpu', 'tpu'] })).rejects.toThrow(
      new RangeError("Expected 'cpu', 'cuda' or 'cuda:N' for devices[1] but received \"tpu\" of type string"),
    );
    await expect(Encoder.load(dir, { device: 'cpu', devices: ['cpu'] })).rejects.toThrow(/either device or devices/);
    await expect(Encoder.load(dir, { maxBatchTokens: 0.5 })).rejects.toThrow(
      new TypeError('Expected positive integer for maxBatchTokens but received 0.5 of type number'),
    );
    await expect(Encoder.load(dir, { maxQueuedSentence: 5 } as never)).rejects.toThrow(/Did you mean 'maxQueuedSentences'/);
  });
});
