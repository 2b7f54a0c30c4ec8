// Padding never changes a result (issue 22): a sentence's padding rows are skipped by attention and
// pooling, never weighted by 0. The checkpoint below makes padding rows overflow: [PAD]'s word
// embedding and the position embeddings past POISONED_FROM share one huge element, whose sum is
// infinite, so every padding row there turns to NaN after the embedding LayerNorm. A long sentence
// (real tokens there; its own activations overflow too) pads a short one into those positions, in
// the same batch. Before the fix the short sentence came back NaN (0 × NaN through the padded keys
// and the mean); now it must equal the float64 reference of it alone, on every path: CPU kernels, torch's attention, bf16, int8 and (with a GPU) CUDA.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { libtorchInfo, type EncodeOptions, type Encoder, type EncoderOptions } from '../../lib/index.js';
import { interceptBatches, loadHookableEncoder } from '../helpers/batch-hooks.js';
import { checkpointDir } from '../helpers/checkpoints.js';
import { cosine, expectVectorsClose } from '../helpers/compare.js';
import { loadReferenceModel, referenceEncode, type ReferenceModel, type ReferencePoolingOptions } from '../reference/bert-f64.js';
import { openSafetensors } from '../reference/safetensors-reader.js';

const POISONED_FROM = 12;
const HUGE = 3.0e38; // finite alone; two of them overflow to infinity
const SHORT = 'A man plays a guitar.';
const LONG = 'A woman is slicing an onion on a wooden board in a small kitchen while two children watch her closely.';

/** A copy of `dir` whose padding rows at positions >= POISONED_FROM overflow. */
function writePoisonedCheckpoint(dir: string): string {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bert-embed-padding-'));
  for (const name of fs.readdirSync(dir)) fs.copyFileSync(path.join(dir, name), path.join(out, name));
  const file = openSafetensors(path.join(out, 'model.safetensors'));
  const tensor = (suffix: string) => {
    const name = file.names.find((n) => n.endsWith(suffix));
    if (!name || file.info(name).dtype !== 'F32') throw new Error(`expected a float32 ${suffix}`);
    const bytes = file.bytes(name);
    return { values: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4), width: file.info(name).shape[1] };
  };
  const words = tensor('word_embeddings.weight');
  const positions = tensor('position_embeddings.weight');
  const padId = 0;
  words.values[padId * words.width] = HUGE;
  for (let p = POISONED_FROM; p * positions.width < positions.values.length; p++) positions.values[p * positions.width] = HUGE;
  fs.writeFileSync(path.join(out, 'model.safetensors'), file.buffer);
  return out;
}

const reduceMean: ReferencePoolingOptions = { pooling: 'REDUCE_MEAN', layers: [-1], maskClsSep: false, normalize: false, clsId: 101, sepId: 102 };
const asReference: EncodeOptions = { pooling: 'REDUCE_MEAN', layers: [-1], maskClsSep: false, normalize: false };

describe('a sentence padded into positions whose padding overflows', () => {
  let dir: string;
  let reference: ReferenceModel;
  beforeAll(() => {
    dir = writePoisonedCheckpoint(checkpointDir('tiny'));
    reference = loadReferenceModel(dir);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** The short sentence's output, batched with the long one (checked to share its batch). */
  async function shortBesideLong(encoder: Encoder, options: EncodeOptions): Promise<Float32Array> {
    const [{ ids: shortIds }, { ids: longIds }] = encoder.tokenize([SHORT, LONG]);
    expect(shortIds.length).toBeLessThan(POISONED_FROM);
    expect(longIds.length).toBeGreaterThan(POISONED_FROM + 4);
    const batchLengths: number[][] = [];
    interceptBatches(encoder, (batch, run) => {
      batchLengths.push(Array.from(batch.lengths));
      return run();
    });
    // While the replica runs the first call, the other two queue and share the next batch.
    const blocker = encoder.encode([SHORT], options);
    const [short, long] = await Promise.allSettled([encoder.encode([SHORT], options), encoder.encode([LONG], options)]);
    await blocker;
    expect(batchLengths).toContainEqual(expect.arrayContaining([shortIds.length, longIds.length]));
    // The long sentence's own overflow may fail its call (ERR_NON_FINITE); it must not reach the short one.
    if (long.status === 'rejected') expect(long.reason).toMatchObject({ code: 'ERR_NON_FINITE' });
    expect(short.status).toBe('fulfilled');
    return (short as PromiseFulfilledResult<{ data: Float32Array }>).value.data;
  }

  interface EnginePath {
    name: string;
    options: EncoderOptions;
    /** comparison switches read at load (native/model/bert_runner.cpp) */
    env?: Record<string, string>;
    /** float32: largest error relative to the vector's norm; reduced precisions: smallest cosine */
    tolerance?: number;
    minCosine?: number;
    skip?: () => string | undefined;
  }
  const paths: EnginePath[] = [
    { name: 'float32 on the CPU kernels', options: {}, tolerance: 1e-4 },
    { name: "float32 on torch's attention (CPU kernels off)", options: {}, env: { BERT_EMBED_CPU_KERNELS: '0' }, tolerance: 1e-4 },
    {
      name: 'bfloat16',
      options: { dtype: 'bfloat16' },
      minCosine: 0.999,
      skip: () => (libtorchInfo().cpu.bfloat16 ? undefined : 'this CPU has no bf16 instructions'),
    },
    { name: 'int8 on the CPU kernels', options: { dtype: 'int8' }, minCosine: 0.99 },
    // libtorch's quantized::linear_dynamic takes one activation range for the whole batch: a batch-mate's
    // NaN row gave the others garbage (FBGEMM) or failed the batch (oneDNN) until the encoder kept it out.
    { name: "int8 on libtorch's quantized engine (CPU kernels off)", options: { dtype: 'int8' }, env: { BERT_EMBED_CPU_KERNELS: '0' }, minCosine: 0.99 },
    ...(['float32', 'float16'] as const).map((dtype) => ({
      name: `${dtype} on CUDA`,
      options: { device: 'cuda:0', dtype },
      ...(dtype === 'float32' ? { tolerance: 1e-4 } : { minCosine: 0.999 }),
      skip: () => (libtorchInfo().cudaDeviceCount > 0 ? undefined : 'no CUDA device here'),
    })),
  ];

  async function loadWith(enginePath: EnginePath): Promise<Encoder> {
    const saved = Object.fromEntries(Object.keys(enginePath.env ?? {}).map((k) => [k, process.env[k]]));
    Object.assign(process.env, enginePath.env);
    try {
      return await loadHookableEncoder(dir, { ...enginePath.options, workers: 1, maxSeqLen: 64, maxBatchSize: 8 });
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }

  function expectMatch(enginePath: EnginePath, actual: Float32Array, expected: ArrayLike<number>, width: number, label: string): void {
    expect(actual.every(Number.isFinite), `${label}: finite`).toBe(true);
    if (enginePath.tolerance) expectVectorsClose(actual, expected, width, enginePath.tolerance, label);
    if (enginePath.minCosine) expect(cosine(actual, expected), `${label}: cosine`).toBeGreaterThanOrEqual(enginePath.minCosine);
  }

  for (const enginePath of paths) {
    it(`${enginePath.name}: the short sentence's answer is its answer alone`, async (context) => {
      const reason = enginePath.skip?.();
      if (reason) {
        console.log(`[padding isolation] skipped ${enginePath.name}: ${reason}`);
        context.skip();
      }
      const encoder = await loadWith(enginePath);
      try {
        const [{ ids, typeIds }] = encoder.tokenize([SHORT]);
        const expected = referenceEncode(reference, ids, reduceMean, typeIds);
        expectMatch(enginePath, await shortBesideLong(encoder, asReference), expected, encoder.dimension, `${enginePath.name}, mean`);
        // Token vectors: its real rows against the same engine's rows for the sentence alone.
        const alone = (await encoder.encode([SHORT], { pooling: 'NONE' })).data;
        expectMatch(enginePath, await shortBesideLong(encoder, { pooling: 'NONE' }), alone, encoder.dimension, `${enginePath.name}, tokens`);
      } finally {
        await encoder.close();
      }
    });
  }
});
