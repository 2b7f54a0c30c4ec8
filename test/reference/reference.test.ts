// Validates the float64 reference (test/reference/bert-f64.ts) against an eager-equivalent TorchScript trace of the
// same random-weight checkpoint (scripts/trace-hf-style.py), and unit-checks the pooling spec on hand-made states.

import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCheckpoint, type MakeCheckpointOptions } from '../../scripts/make-checkpoint.mjs';
import {
  erf,
  geluErf,
  loadReferenceModel,
  referenceHiddenStates,
  referencePool,
  referencePoolerOutput,
  type ReferenceModel,
  type ReferencePoolingOptions,
} from './bert-f64.js';
import { makeFixtureDir, randomIds, removeFixtureDir, runTorchHelper, sharedModel, traceCheckpoints, type TorchRunJob, type TorchRunResult } from './helpers.js';

const REL_TOL = 1e-5;

function l2(v: ArrayLike<number>, start = 0, end = v.length): number {
  let s = 0;
  for (let i = start; i < end; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** max over token rows of ||ref_row - got_row|| / ||ref_row|| */
function worstRowError(ref: Float64Array, got: number[][], T: number, H: number): number {
  let worst = 0;
  for (let t = 0; t < T; t++) {
    let d = 0;
    for (let i = 0; i < H; i++) {
      const e = ref[t * H + i] - got[t][i];
      d += e * e;
    }
    worst = Math.max(worst, Math.sqrt(d) / l2(ref, t * H, (t + 1) * H));
  }
  return worst;
}

// ---------------------------------------------------------------------------------------------------------------
// Reference vs traced torch
// ---------------------------------------------------------------------------------------------------------------

const odd = { hidden_size: 96, num_attention_heads: 3, num_hidden_layers: 2, intermediate_size: 200 };
const tinyConfig = path.join(sharedModel('bert-tiny'), 'config.json');
const miniLmConfig = path.join(sharedModel('all-MiniLM-L6-v2'), 'config.json');

interface Variant {
  name: string;
  options: Omit<MakeCheckpointOptions, 'outDir'>;
}

const variants: Variant[] = [
  { name: 'bert-tiny-f32', options: { configPath: tinyConfig, seed: 1 } },
  {
    name: 'odd-f32-prefix-legacy',
    options: { configPath: tinyConfig, seed: 2, overrides: odd, prefix: 'bert.', legacyLayerNorm: true, includePositionIds: true },
  },
  { name: 'odd-f16-prefix-legacy', options: { configPath: tinyConfig, seed: 3, overrides: odd, prefix: 'bert.', legacyLayerNorm: true, dtype: 'F16' } },
  {
    name: 'odd-bf16-prefix-legacy',
    options: { configPath: tinyConfig, seed: 4, overrides: odd, prefix: 'bert.', legacyLayerNorm: true, dtype: 'BF16', includePositionIds: true },
  },
  // larger std: peaky attention and large pre-activations, so masking / scaling / activation errors show
  { name: 'odd-gelu-std0.1', options: { configPath: tinyConfig, seed: 5, overrides: odd, std: 0.1 } },
  { name: 'odd-gelu_new-std0.2', options: { configPath: tinyConfig, seed: 6, overrides: { ...odd, hidden_act: 'gelu_new', layer_norm_eps: 1e-7 }, std: 0.2 } },
  { name: 'odd-relu-std0.2', options: { configPath: tinyConfig, seed: 7, overrides: { ...odd, hidden_act: 'relu' }, std: 0.2, dtype: 'BF16' } },
  { name: 'minilm-f32', options: { configPath: miniLmConfig, seed: 8 } },
];

// Sentences: [CLS] ... [SEP] with random word pieces; lengths 1..33, some with token type 1 on a second segment.
const sentences: { ids: number[]; types?: number[] }[] = [
  { ids: [101] },
  { ids: [101, 102] },
  { ids: [101, ...randomIds(11, 7, 1000, 30000), 102] },
  { ids: [101, ...randomIds(12, 18, 1000, 30000), 102] },
  (() => {
    const a = randomIds(13, 12, 1000, 30000);
    const b = randomIds(14, 19, 1000, 30000);
    const ids = [101, ...a, 102, ...b, 102];
    return { ids, types: ids.map((_, i) => (i <= a.length + 1 ? 0 : 1)) };
  })(),
];

describe('reference BERT vs traced HF-style torch module', () => {
  let root: string;
  const dirs = new Map<string, { checkpoint: string; traced: string; checkMaxAbsDiff: number }>();
  let results = new Map<string, { unpadded: TorchRunResult[]; padded: TorchRunResult }>();

  beforeAll(async () => {
    root = makeFixtureDir('reference-test');
    const pairs: [string, string][] = [];
    for (const v of variants) {
      const checkpoint = path.join(root, v.name);
      await makeCheckpoint({ ...v.options, outDir: checkpoint });
      pairs.push([checkpoint, path.join(checkpoint, 'traced.pt')]);
    }
    const infos = traceCheckpoints(pairs);
    variants.forEach((v, i) => dirs.set(v.name, { checkpoint: pairs[i][0], traced: pairs[i][1], checkMaxAbsDiff: infos[i].check_max_abs_diff }));
    // One python process: every sentence alone (unpadded), then all of them as one padded batch.
    const jobs: TorchRunJob[] = [];
    for (const v of variants) {
      const { traced } = dirs.get(v.name)!;
      for (const s of sentences) jobs.push({ model: traced, input_ids: [s.ids], token_type_ids: [s.types ?? s.ids.map(() => 0)] });
      const T = Math.max(...sentences.map((s) => s.ids.length));
      jobs.push({
        model: traced,
        input_ids: sentences.map((s) => [...s.ids, ...new Array(T - s.ids.length).fill(0)]),
        attention_mask: sentences.map((s) => [...s.ids.map(() => 1), ...new Array(T - s.ids.length).fill(0)]),
        token_type_ids: sentences.map((s) => [...(s.types ?? s.ids.map(() => 0)), ...new Array(T - s.ids.length).fill(0)]),
      });
    }
    const out = runTorchHelper(jobs);
    results = new Map();
    let k = 0;
    for (const v of variants) {
      const unpadded = out.slice(k, k + sentences.length);
      k += sentences.length;
      results.set(v.name, { unpadded, padded: out[k++] });
    }
  });

  afterAll(() => {
    if (root) removeFixtureDir(root);
  });

  for (const v of variants) {
    describe(v.name, () => {
      let model: ReferenceModel;
      beforeAll(() => {
        model = loadReferenceModel(dirs.get(v.name)!.checkpoint);
      });

      it('the traced module generalised to another batch shape (checked by the trace script)', () => {
        expect(dirs.get(v.name)!.checkMaxAbsDiff).toBeLessThanOrEqual(1e-5);
      });

      it('loads with the expected naming', () => {
        expect(model.prefix).toBe(v.options.prefix ?? '');
        expect(model.layers.length).toBe(model.config.num_hidden_layers);
      });

      it('hidden states of every layer agree (unpadded, one sentence per batch)', () => {
        const r = results.get(v.name)!;
        let worst = 0;
        sentences.forEach((s, si) => {
          const states = referenceHiddenStates(model, s.ids, s.types);
          const py = r.unpadded[si];
          expect(py.hidden_states.length).toBe(states.length);
          for (let l = 0; l < states.length; l++) {
            const err = worstRowError(states[l], py.hidden_states[l][0], s.ids.length, model.hidden);
            worst = Math.max(worst, err);
            expect(err, `sentence ${si} (T=${s.ids.length}) layer ${l}`).toBeLessThan(REL_TOL);
          }
          // last_hidden_state is the last hidden state; pooler = tanh(dense(h[:, 0]))
          expect(worstRowError(states[states.length - 1], py.last_hidden_state[0], s.ids.length, model.hidden)).toBeLessThan(REL_TOL);
          const pooled = referencePoolerOutput(model, states);
          const pyPooled = py.pooler_output[0];
          let d = 0;
          for (let i = 0; i < pooled.length; i++) d += (pooled[i] - pyPooled[i]) ** 2;
          expect(Math.sqrt(d) / l2(pooled), `pooler sentence ${si}`).toBeLessThan(REL_TOL);
        });
        console.log(`${v.name}: worst relative row error vs torch float32 = ${worst.toExponential(2)}`);
      });

      it('hidden states of the real tokens agree inside a padded batch', () => {
        const r = results.get(v.name)!;
        sentences.forEach((s, si) => {
          const states = referenceHiddenStates(model, s.ids, s.types);
          for (let l = 0; l < states.length; l++) {
            const rows = r.padded.hidden_states[l][si].slice(0, s.ids.length);
            const err = worstRowError(states[l], rows, s.ids.length, model.hidden);
            expect(err, `padded sentence ${si} layer ${l}`).toBeLessThan(REL_TOL);
          }
        });
      });
    });
  }

  it('is fast enough on the all-MiniLM-L6-v2 shape (20-token sentence)', () => {
    const model = loadReferenceModel(dirs.get('minilm-f32')!.checkpoint);
    const ids = [101, ...randomIds(99, 18, 1000, 30000), 102];
    referenceHiddenStates(model, ids); // warm-up
    const t0 = performance.now();
    const n = 3;
    for (let i = 0; i < n; i++) referenceHiddenStates(model, ids);
    const ms = (performance.now() - t0) / n;
    console.log(`reference: ${ms.toFixed(1)} ms per 20-token MiniLM sentence`);
    expect(ms).toBeLessThan(2000);
  });

  it('rejects bad input', () => {
    const model = loadReferenceModel(dirs.get('bert-tiny-f32')!.checkpoint);
    expect(() => referenceHiddenStates(model, [])).toThrow();
    expect(() => referenceHiddenStates(model, [101, 30522])).toThrow(/out of range/);
    expect(() => referenceHiddenStates(model, [101, 5], [0, 2])).toThrow(/out of range/);
    expect(() => referenceHiddenStates(model, new Array(513).fill(5))).toThrow(/max_position_embeddings/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Special functions
// ---------------------------------------------------------------------------------------------------------------

describe('erf / gelu', () => {
  it('matches libm erf (values from Python math.erf)', () => {
    const cases: [number, number][] = [
      [0, 0],
      [1e-10, 1.1283791670955126e-10],
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [-0.75, -0.7111556336535151],
      [1, 0.8427007929497149],
      [1.5, 0.9661051464753108],
      [2, 0.9953222650189527],
      [2.4999, 0.9995928300996666],
      [2.5, 0.999593047982555],
      [3, 0.9999779095030014],
      [-4, -0.9999999845827421],
      [5.5, 0.9999999999999927],
      [7, 1],
    ];
    for (const [x, want] of cases) expect(Math.abs(erf(x) - want), `erf(${x})`).toBeLessThan(1e-15);
  });

  it('gelu(x) = x * Phi(x)', () => {
    expect(geluErf(0)).toBe(0);
    expect(geluErf(1)).toBeCloseTo(0.8413447460685429, 15);
    expect(geluErf(-1)).toBeCloseTo(-0.15865525393145707, 15);
    expect(geluErf(-10)).toBeCloseTo(-7.619853024160593e-23, 30);
    expect(geluErf(10)).toBe(10);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Pooling spec on hand-made hidden states (3 tokens x 2 dims, 2 layers + embeddings)
// ---------------------------------------------------------------------------------------------------------------

describe('referencePool', () => {
  const CLS = 101;
  const SEP = 102;
  const ids = [CLS, 7, SEP];
  const hs = [
    Float64Array.from([1, 2, 3, 4, 5, 6]), // embeddings (index 0, -3)
    Float64Array.from([0, -1, 2, 5, -4, 1]), // layer 1 (index 1, -2)
    Float64Array.from([1, 1, -1, 3, 2, -2]), // layer 2 (index 2, -1)
  ];
  const opts = (o: Partial<ReferencePoolingOptions>): ReferencePoolingOptions => ({
    pooling: 'REDUCE_MEAN',
    layers: [-1],
    maskClsSep: false,
    normalize: false,
    clsId: CLS,
    sepId: SEP,
    ...o,
  });
  const pool = (o: Partial<ReferencePoolingOptions>, i: number[] = ids, h: Float64Array[] = hs) => Array.from(referencePool(h, i, 2, opts(o)));
  const close = (got: number[], want: number[]) => {
    expect(got.length).toBe(want.length);
    got.forEach((g, i) => expect(g, `element ${i} of [${got}] vs [${want}]`).toBeCloseTo(want[i], 14));
  };

  it('REDUCE_MEAN / REDUCE_MAX / REDUCE_MEAN_MAX over all tokens', () => {
    close(pool({ pooling: 'REDUCE_MEAN' }), [2 / 3, 2 / 3]);
    close(pool({ pooling: 'REDUCE_MAX' }), [2, 3]);
    close(pool({ pooling: 'REDUCE_MEAN_MAX' }), [2 / 3, 2 / 3, 2, 3]);
  });

  it('CLS_TOKEN / FIRST_TOKEN = position 0, SEP_TOKEN / LAST_TOKEN = last position', () => {
    close(pool({ pooling: 'CLS_TOKEN' }), [1, 1]);
    close(pool({ pooling: 'FIRST_TOKEN' }), [1, 1]);
    close(pool({ pooling: 'SEP_TOKEN' }), [2, -2]);
    close(pool({ pooling: 'LAST_TOKEN' }), [2, -2]);
    // masking does not affect token picks
    close(pool({ pooling: 'CLS_TOKEN', maskClsSep: true }), [1, 1]);
    close(pool({ pooling: 'LAST_TOKEN', maskClsSep: true }), [2, -2]);
  });

  it('layer indices: 0 = embeddings, positive i = layer i, negative from the end', () => {
    close(pool({ layers: [0] }), [3, 4]);
    close(pool({ layers: [1] }), [-2 / 3, 5 / 3]);
    close(pool({ layers: [-2] }), [-2 / 3, 5 / 3]);
    close(pool({ layers: [-3] }), [3, 4]);
    close(pool({ layers: [2] }), [2 / 3, 2 / 3]);
    expect(() => pool({ layers: [3] })).toThrow(/out of range/);
    expect(() => pool({ layers: [-4] })).toThrow(/out of range/);
    expect(() => pool({ layers: [] })).toThrow();
  });

  it('concatenates layers in the given order', () => {
    close(pool({ layers: [0, -1] }), [3, 4, 2 / 3, 2 / 3]);
    close(pool({ layers: [-1, 0] }), [2 / 3, 2 / 3, 3, 4]);
    // REDUCE_MEAN_MAX: every layer's mean, then every layer's max (bert-as-service pools the joined layers)
    close(pool({ pooling: 'REDUCE_MEAN_MAX', layers: [0, 2] }), [3, 4, 2 / 3, 2 / 3, 5, 6, 2, 3]);
    close(pool({ pooling: 'CLS_TOKEN', layers: [1, 2] }), [0, -1, 1, 1]);
    close(pool({ pooling: 'LAST_TOKEN', layers: [-2, 0] }), [-4, 1, 5, 6]);
  });

  it('maskClsSep excludes [CLS]/[SEP] positions from the reductions', () => {
    close(pool({ pooling: 'REDUCE_MEAN', maskClsSep: true }), [-1, 3]);
    close(pool({ pooling: 'REDUCE_MAX', maskClsSep: true, layers: [-2] }), [2, 5]);
    close(pool({ pooling: 'REDUCE_MEAN_MAX', maskClsSep: true, layers: [0] }), [3, 4, 3, 4]);
    // nothing left -> zeros (and normalize keeps zeros)
    close(pool({ pooling: 'REDUCE_MEAN', maskClsSep: true, normalize: true }, [CLS, SEP], [hs[0].subarray(0, 4), hs[1].subarray(0, 4), hs[2].subarray(0, 4)]), [0, 0]);
    close(pool({ pooling: 'REDUCE_MAX', maskClsSep: true }, [CLS, SEP], [hs[0].subarray(0, 4), hs[1].subarray(0, 4), hs[2].subarray(0, 4)]), [0, 0]);
  });

  it('REDUCE_MAX of all-negative values is negative', () => {
    const neg = [Float64Array.from([-1, -2, -3, -0.5])];
    close(pool({ pooling: 'REDUCE_MAX', layers: [0] }, [5, 6], neg), [-1, -0.5]);
  });

  it('normalize L2-normalizes the final vector', () => {
    close(pool({ pooling: 'REDUCE_MAX', normalize: true }), [2 / Math.sqrt(13), 3 / Math.sqrt(13)]);
    const s = Math.sqrt(9 + 16 + 4 / 9 + 4 / 9);
    close(pool({ layers: [0, -1], normalize: true }), [3 / s, 4 / s, 2 / 3 / s, 2 / 3 / s]);
  });

  it('NONE: token rows padded to maxSeqLen, masked rows zero, rows normalized separately', () => {
    close(pool({ pooling: 'NONE', maxSeqLen: 5 }), [1, 1, -1, 3, 2, -2, 0, 0, 0, 0]);
    close(pool({ pooling: 'NONE', maxSeqLen: 4, layers: [0, -1] }), [1, 2, 1, 1, 3, 4, -1, 3, 5, 6, 2, -2, 0, 0, 0, 0]);
    close(pool({ pooling: 'NONE', maxSeqLen: 4, maskClsSep: true }), [0, 0, -1, 3, 0, 0, 0, 0]);
    const r2 = Math.SQRT1_2;
    const r10 = 1 / Math.sqrt(10);
    close(pool({ pooling: 'NONE', maxSeqLen: 4, normalize: true }), [r2, r2, -r10, 3 * r10, r2, -r2, 0, 0]);
    close(pool({ pooling: 'NONE', maxSeqLen: 3, normalize: true, maskClsSep: true }), [0, 0, -r10, 3 * r10, 0, 0]);
    expect(() => pool({ pooling: 'NONE' })).toThrow(/maxSeqLen/);
    expect(() => pool({ pooling: 'NONE', maxSeqLen: 2 })).toThrow();
  });
});
