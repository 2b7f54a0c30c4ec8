// Checks of the Hugging Face masked-LM reference (test/reference/hf_mlm.py through hf-mlm.ts) by other means:
// the masked copies of every metric and every head output recomputed in float64 here (the float64 encoder of
// bert-f64.ts, its masked-LM head included), float32 against float64, the invariants
// between the metrics, the fill-mask pipeline against the score machinery, and the refusal to run a model whose
// head would be randomly initialized.

import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkpointDir, type CheckpointName } from '../helpers/checkpoints.js';
import { loadReferenceModel, logSumExp, referenceHiddenStates, referenceMaskedLmLogits, type ReferenceModel } from './bert-f64.js';
import {
  hfMlmAvailable,
  runHfMlmAsync,
  type HfFillMaskResult,
  type HfLogitsAtResult,
  type HfScoreResult,
  type HfSparseResult,
} from './hf-mlm.js';

const TINY = checkpointDir('mlm-tiny');
const ODD = checkpointDir('mlm-odd-legacy-prefixed');
const MINILM = checkpointDir('mlm-minilm-untied');
const MASK = 103;

const SENTENCES = ['hello', 'the cat sat on the mat.', 'unbelievable tokenization of embeddings ||| is fine'];
const FILL = ['the cat [MASK] on the mat.', 'the [MASK] sat on the [MASK].'];

// ---------------------------------------------------------------------------------------------------------------
// float64 reference: bert-f64.ts's encoder and BertForMaskedLM head
// ---------------------------------------------------------------------------------------------------------------

const references = new Map<string, ReferenceModel>();
function reference(dir: string): ReferenceModel {
  let model = references.get(dir);
  if (!model) {
    model = loadReferenceModel(dir);
    if (!model.maskedLmHead) throw new Error(`${dir} has no masked-LM head`);
    references.set(dir, model);
  }
  return model;
}

function rankOf(logits: Float64Array, target: number): number {
  let higher = 0;
  for (const v of logits) if (v > logits[target]) higher++;
  return higher + 1;
}

/** float64 logits at positions of one row of ids. */
function referenceLogits(dir: string, ids: number[], typeIds: number[], positions: number[]): Float64Array[] {
  const model = reference(dir);
  const states = referenceHiddenStates(model, ids, typeIds);
  const last = states[states.length - 1];
  return positions.map((p) => referenceMaskedLmLogits(model, last, p));
}

/** log p and rank of ids[target] at `target` with the tokens at `masked` replaced by [MASK]. */
function referenceMasked(dir: string, r: HfScoreResult, masked: number[], target: number): { logprob: number; rank: number } {
  const ids = r.ids.slice();
  for (const m of masked) ids[m] = MASK;
  const [logits] = referenceLogits(dir, ids, r.type_ids, [target]);
  return { logprob: logits[r.ids[target]] - logSumExp(logits), rank: rankOf(logits, r.ids[target]) };
}

/** The masked copies of a metric, recomputed from the result's words: for each scored token, the tokens masked. */
function maskedFor(metric: 'original' | 'within_word_l2r' | 'whole_word', r: HfScoreResult): number[][] {
  return r.positions.map((p, n) => {
    const word = r.words[r.word_of[n]];
    if (metric === 'original') return [p];
    if (metric === 'within_word_l2r') return word.filter((q) => q >= p);
    return word;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// One Python process for every job
// ---------------------------------------------------------------------------------------------------------------

type Scores = HfScoreResult[];
let tinyScores: Record<'original' | 'within_word_l2r' | 'whole_word', { f32: Scores; f64: Scores }>;
let oddF64: Scores;
let minilmF64: Scores;
let truncatedPair: Scores;
let fills: HfFillMaskResult[];
let fillTarget: HfFillMaskResult[];
let minilmFill: HfFillMaskResult[];
let sparse: HfSparseResult[];
let logitsAt: HfLogitsAtResult;
const LOGITS_AT = {
  input_ids: [
    [101, 1996, MASK, 2938, 102],
    [101, 7592, 102, 2088, MASK, 102],
  ],
  token_type_ids: [
    [0, 0, 0, 0, 0],
    [0, 0, 0, 1, 1, 1],
  ],
  positions: [[2], [4, 1]],
  targets: [[4937], [2088, 7592]],
};

let withoutHead: PromiseSettledResult<unknown>;

beforeAll(async () => {
  if (!hfMlmAvailable()) throw new Error('.venv/bin/python cannot import transformers: run `npm run setup`');
  // A checkpoint without the head must be refused (in a process of its own, beside the main one).
  const noHead: CheckpointName = 'tiny';
  const refused = Promise.allSettled([runHfMlmAsync([{ op: 'score', model: checkpointDir(noHead), texts: ['hello'] }])]);
  const r = await runHfMlmAsync([
    { op: 'score', model: TINY, texts: SENTENCES, metric: 'original' },
    { op: 'score', model: TINY, texts: SENTENCES, metric: 'original', dtype: 'float64' },
    { op: 'score', model: TINY, texts: SENTENCES, metric: 'within_word_l2r' },
    { op: 'score', model: TINY, texts: SENTENCES, metric: 'within_word_l2r', dtype: 'float64' },
    { op: 'score', model: TINY, texts: SENTENCES, metric: 'whole_word' },
    { op: 'score', model: TINY, texts: SENTENCES, metric: 'whole_word', dtype: 'float64' },
    { op: 'score', model: ODD, texts: SENTENCES, metric: 'original', dtype: 'float64' },
    { op: 'score', model: MINILM, texts: SENTENCES.slice(0, 1), metric: 'original', dtype: 'float64' },
    { op: 'score', model: TINY, texts: [SENTENCES[2]], metric: 'whole_word', max_length: 8 },
    { op: 'fill_mask', model: TINY, texts: FILL, top_k: 5 },
    { op: 'fill_mask', model: TINY, texts: [FILL[0]], targets: ['sat', 'is'] },
    { op: 'fill_mask', model: MINILM, texts: [FILL[0]], top_k: 5 },
    { op: 'sparse', model: ODD, texts: [SENTENCES[1]] },
    { op: 'logits_at', model: MINILM, ...LOGITS_AT },
  ]);
  tinyScores = {
    original: { f32: r[0], f64: r[1] },
    within_word_l2r: { f32: r[2], f64: r[3] },
    whole_word: { f32: r[4], f64: r[5] },
  };
  [oddF64, minilmF64, truncatedPair, fills, fillTarget, minilmFill, sparse, logitsAt] = [r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13]];
  [withoutHead] = await refused;
}, 120_000);

describe('hf_mlm.py score', () => {
  it('tokenizes, groups words and picks the scored tokens as described', () => {
    const [hello, , pair] = tinyScores.original.f32;
    expect(hello.tokens).toEqual(['[CLS]', 'hello', '[SEP]']);
    expect(hello.positions).toEqual([1]);
    expect(pair.tokens).toEqual(['[CLS]', 'unbelievable', 'token', '##ization', 'of', 'em', '##bed', '##ding', '##s', '[SEP]', 'is', 'fine', '[SEP]']);
    expect(pair.type_ids).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
    expect(pair.positions).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 10, 11]); // not the middle [SEP]
    expect(pair.words).toEqual([[1], [2, 3], [4], [5, 6, 7, 8], [10], [11]]);
    expect(pair.word_of).toEqual([0, 1, 1, 2, 3, 3, 3, 3, 4, 5]);
    expect(pair.offsets.slice(1, 4)).toEqual([[0, 12], [13, 18], [18, 25]]);
    expect(pair.offsets[10]).toEqual([0, 2]); // offsets are within each sentence of the pair
    expect(pair.truncated).toBe(false);
    for (const metric of ['original', 'within_word_l2r', 'whole_word'] as const) {
      for (const r of tinyScores[metric].f32) {
        expect(r.logprobs).toHaveLength(r.positions.length);
        expect(r.ranks).toHaveLength(r.positions.length);
        r.words.forEach((w, i) => {
          const sum = r.positions.reduce((s, _, n) => (r.word_of[n] === i ? s + r.logprobs[n] : s), 0);
          expect(r.word_logprobs[i]).toBeCloseTo(sum, 9);
        });
        expect(r.total).toBeCloseTo(r.logprobs.reduce((a, b) => a + b, 0), 9);
      }
    }
  });

  it('every metric equals its masked copies recomputed in float64 (tied head, bert-tiny)', () => {
    for (const metric of ['original', 'within_word_l2r', 'whole_word'] as const) {
      for (const r of tinyScores[metric].f64) {
        const masks = maskedFor(metric, r);
        r.positions.forEach((p, n) => {
          const want = referenceMasked(TINY, r, masks[n], p);
          expect(Math.abs(r.logprobs[n] - want.logprob), `${metric} ${r.tokens.join(' ')} @${p}`).toBeLessThan(1e-9);
          expect(r.ranks[n], `${metric} rank @${p}`).toBe(want.rank);
        });
      }
    }
  });

  it('a one-token sentence: log p(hello | [CLS] [MASK] [SEP]) by hand', () => {
    const [logits] = referenceLogits(TINY, [101, MASK, 102], [0, 0, 0], [1]);
    const r = tinyScores.original.f64[0];
    expect(r.logprobs[0]).toBeCloseTo(logits[7592] - logSumExp(logits), 10);
    expect(r.logprobs[0]).toBeCloseTo(tinyScores.original.f32[0].logprobs[0], 4);
  });

  it('the gamma/beta, bert.-prefixed, gelu_new checkpoint and the untied MiniLM load their own head weights', () => {
    // hf_mlm.py refuses a model with a missing or mismatched weight; the float64 recomputation shows it used them.
    for (const [dir, results] of [
      [ODD, oddF64],
      [MINILM, minilmF64],
    ] as const) {
      for (const r of results) {
        r.positions.forEach((p, n) => {
          const want = referenceMasked(dir, r, [p], p);
          expect(Math.abs(r.logprobs[n] - want.logprob), `${path.basename(dir)} @${p}`).toBeLessThan(1e-9);
          expect(r.ranks[n]).toBe(want.rank);
        });
      }
    }
  });

  it('float32 and float64 agree within 1e-4', () => {
    for (const metric of ['original', 'within_word_l2r', 'whole_word'] as const) {
      const { f32, f64 } = tinyScores[metric];
      f32.forEach((r, i) => {
        expect(r.ids).toEqual(f64[i].ids);
        r.logprobs.forEach((v, n) => expect(Math.abs(v - f64[i].logprobs[n]), `${metric} ${i}/${n}`).toBeLessThan(1e-4));
        r.ranks.forEach((v, n) => expect(Math.abs(v - f64[i].ranks[n]), `${metric} rank ${i}/${n}`).toBeLessThanOrEqual(1));
      });
    }
  });

  it('the metrics agree where their masks coincide', () => {
    const { original, within_word_l2r: l2r, whole_word: whole } = tinyScores;
    original.f32.forEach((o, i) => {
      o.positions.forEach((p, n) => {
        const word = o.words[o.word_of[n]];
        const close = (a: number, b: number) => expect(Math.abs(a - b), `${i} @${p}`).toBeLessThan(1e-5);
        if (word.length === 1) {
          close(l2r.f32[i].logprobs[n], o.logprobs[n]);
          close(whole.f32[i].logprobs[n], o.logprobs[n]);
        } else {
          if (p === word[word.length - 1]) close(l2r.f32[i].logprobs[n], o.logprobs[n]); // only itself masked
          if (p === word[0]) close(l2r.f32[i].logprobs[n], whole.f32[i].logprobs[n]); // the whole word masked
        }
      });
    });
  });

  it('truncates a pair longest-first and says so', () => {
    const [r] = truncatedPair;
    expect(r.truncated).toBe(true);
    expect(r.ids).toHaveLength(8);
    expect(r.tokens).toEqual(['[CLS]', 'unbelievable', 'token', '##ization', '[SEP]', 'is', 'fine', '[SEP]']);
    expect(r.words).toEqual([[1], [2, 3], [5], [6]]);
  });
});

describe('hf_mlm.py fill_mask, sparse, logits_at', () => {
  it("the fill-mask pipeline's top 5 are the float64 head's, with its probabilities", () => {
    for (const [dir, result, text] of [
      [TINY, fills[0], FILL[0]],
      [MINILM, minilmFill[0], FILL[0]],
    ] as const) {
      const base = tinyScores.original.f32[1]; // 'the cat sat on the mat.' (both checkpoints share the vocabulary)
      expect(result.masks).toHaveLength(1);
      const { position, candidates } = result.masks[0];
      expect(position).toBe(3);
      const ids = base.ids.slice();
      ids[position] = MASK;
      const [logits] = referenceLogits(dir, ids, base.type_ids, [position]);
      const lse = logSumExp(logits);
      const order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a]);
      expect(candidates).toHaveLength(5);
      candidates.forEach((c, k) => {
        expect(Math.abs(c.score - Math.exp(logits[c.token] - lse)), `${path.basename(dir)} ${k}`).toBeLessThan(1e-6);
        if (k < 4) expect(c.score).toBeGreaterThanOrEqual(candidates[k + 1].score);
        // the same ids, unless two are within float32's reach of a tie
        if (logits[order[k]] - logits[order[k + 1]] > 1e-4 && (k === 0 || logits[order[k - 1]] - logits[order[k]] > 1e-4)) expect(c.token).toBe(order[k]);
        if (!c.token_str.startsWith('##')) expect(c.sequence).toBe(text.replace('[MASK]', c.token_str));
      });
      expect(candidates[0].score * 30522).toBeGreaterThan(20); // far from uniform
    }
  });

  it('two masks: one candidate list per mask, sequences keep the specials', () => {
    const { masks } = fills[1];
    expect(masks.map((m) => m.position)).toEqual([2, 6]);
    for (const m of masks) {
      expect(m.candidates).toHaveLength(5);
      expect(m.candidates[0].sequence).toMatch(/^\[CLS\] the .* \[SEP\]$/);
      expect(m.candidates[0].sequence).toContain('[MASK]');
    }
  });

  it("the pipeline's score of a target is exp(logprob) of the score op", () => {
    const [{ masks }] = fillTarget;
    const sat = masks[0].candidates.find((c) => c.token_str === 'sat')!;
    expect(sat.token).toBe(2938);
    const fromScore = tinyScores.original.f32[1];
    const n = fromScore.positions.indexOf(3);
    expect(fromScore.tokens[3]).toBe('sat');
    expect(sat.score / Math.exp(fromScore.logprobs[n])).toBeCloseTo(1, 5);
    expect(masks[0].candidates.map((c) => c.token_str).sort()).toEqual(['is', 'sat']);
  });

  it('sparse is the max over tokens of log(1 + relu(logits))', () => {
    const base = tinyScores.original.f32[1];
    const logits = referenceLogits(ODD, base.ids, base.type_ids, base.ids.map((_, t) => t));
    const want = new Float64Array(logits[0].length);
    for (const row of logits) for (let v = 0; v < row.length; v++) want[v] = Math.max(want[v], Math.log1p(Math.max(0, row[v])));
    const got = new Float64Array(want.length);
    const [{ indices, values }] = sparse;
    expect(indices.length).toBe(values.length);
    indices.forEach((v, i) => {
      if (i > 0) expect(v).toBeGreaterThan(indices[i - 1]);
      expect(values[i]).toBeGreaterThan(0);
      got[v] = values[i];
    });
    let worst = 0;
    for (let v = 0; v < want.length; v++) worst = Math.max(worst, Math.abs(got[v] - want[v]));
    expect(worst).toBeLessThan(1e-5);
    expect(indices.length).toBeGreaterThan(1000);
  });

  it('logits_at: ragged rows, token types, several positions (untied decoder)', () => {
    LOGITS_AT.input_ids.forEach((ids, b) => {
      const logits = referenceLogits(MINILM, ids, LOGITS_AT.token_type_ids[b], LOGITS_AT.positions[b]);
      logits.forEach((row, j) => {
        const t = LOGITS_AT.targets[b][j];
        expect(Math.abs(logitsAt.logits[b][j] - row[t])).toBeLessThan(1e-4);
        expect(Math.abs(logitsAt.logprobs[b][j] - (row[t] - logSumExp(row)))).toBeLessThan(1e-4);
        expect(Math.abs(logitsAt.ranks[b][j] - rankOf(row, t))).toBeLessThanOrEqual(1);
      });
    });
  });
});

describe('hf_mlm.py refuses random weights', () => {
  it('fails on a checkpoint without the head', () => {
    expect(withoutHead.status).toBe('rejected');
    expect(String((withoutHead as PromiseRejectedResult).reason)).toMatch(/weights missing from the checkpoint would be random/);
    expect(String((withoutHead as PromiseRejectedResult).reason)).toMatch(/cls\.predictions\.transform\.dense\.weight/);
  });
});
