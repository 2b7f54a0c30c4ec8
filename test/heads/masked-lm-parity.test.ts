/**
 * The masked-LM head against Hugging Face's own BertForMaskedLM (python transformers, in the
 * virtual environment `npm run setup` makes) on three random-weight checkpoints, one with gamma/beta
 * names and the `bert.` prefix, one with its own decoder; and against the float64 reference model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Encoder, SCORE_METRICS, type SentenceScore } from '../../lib/index.js';
import { checkpointDir, type CheckpointName } from '../helpers/checkpoints.js';
import { loadReferenceModel, referenceHiddenStates, referenceMaskedLmLogProbs } from '../reference/bert-f64.js';
import { runHfMlmAsync } from '../reference/hf-mlm.js';

const MAX_SEQ_LEN = 24;
const TEXTS = [
  'The cat sat on the mat.',
  'Unbelievably, the hippopotamus outswam everyone at the Olympics!',
  'A man is playing a flute. ||| A man plays the flute.',
  'Café owners in Zürich disagreed about naïve résumés.',
  // longer than MAX_SEQ_LEN: truncated
  'Three dogs chased the postman down the long winding road while the neighbours watched from their windows and laughed.',
  'Two sentences, both long enough to be cut: the first keeps going for quite a while ||| and the second one, also rather long, does too.',
];
const FILL_TEXTS = [
  'Paris is the [MASK] of France.',
  'The quick brown [MASK] jumps over the lazy dog.',
  '[MASK] is a sport played with a ball.',
  'She [MASK] the [MASK] yesterday.',
];
const CHECKPOINTS: CheckpointName[] = ['mlm-tiny', 'mlm-odd-legacy-prefixed', 'mlm-minilm-untied'];

describe.each(CHECKPOINTS)('%s against Hugging Face BertForMaskedLM', (name) => {
  const dir = checkpointDir(name);
  let encoder: Encoder;
  let reference: Awaited<ReturnType<typeof hfResults>>;

  function hfResults() {
    return runHfMlmAsync([
      ...SCORE_METRICS.map((metric) => ({ op: 'score' as const, model: dir, texts: TEXTS, metric, max_length: MAX_SEQ_LEN })),
      { op: 'fill_mask' as const, model: dir, texts: FILL_TEXTS, top_k: 5 },
      { op: 'sparse' as const, model: dir, texts: TEXTS, max_length: MAX_SEQ_LEN },
    ] as const);
  }

  beforeAll(async () => {
    [encoder, reference] = await Promise.all([Encoder.load(dir, { maxSeqLen: MAX_SEQ_LEN }), hfResults()]);
  });
  afterAll(() => encoder?.close());

  it('reports the masked-LM head', () => {
    expect(encoder.heads).toEqual(['pooled', 'maskedLm', 'sparse']);
  });

  SCORE_METRICS.forEach((metric, m) => {
    it(`scores every token within 1e-4 (${metric})`, async () => {
      const ours = await encoder.score(TEXTS, { metric });
      ours.forEach((score: SentenceScore, t) => {
        const theirs = reference[m][t];
        const label = `${metric} text ${t}`;
        expect(score.truncated, label).toBe(theirs.truncated);
        expect(score.tokens.map((token) => token.id), label).toEqual(theirs.positions.map((position) => theirs.ids[position]));
        score.tokens.forEach((token, i) => {
          expect(Math.abs(token.logprob - theirs.logprobs[i]), `${label} token ${i}`).toBeLessThan(1e-4);
          // float32 rounding can reorder logits that differ by about 1e-6
          expect(Math.abs(token.rank - theirs.ranks[i]), `${label} rank ${i}`).toBeLessThanOrEqual(1);
        });
        expect(score.words.length, label).toBe(theirs.words.length);
        score.words.forEach((word, w) => expect(Math.abs(word.logprob - theirs.word_logprobs[w]), `${label} word ${w}`).toBeLessThan(1e-4));
        expect(Math.abs(score.pll - theirs.total), label).toBeLessThan(1e-3);
        const relative = (actual: number, expected: number): number => Math.abs(actual / expected - 1);
        expect(relative(score.pseudoPerplexity, Math.exp(-theirs.total / theirs.logprobs.length)), label).toBeLessThan(1e-4);
        expect(relative(score.wordPseudoPerplexity, Math.exp(-theirs.total / theirs.words.length)), label).toBeLessThan(1e-4);
      });
    });
  });

  it('fills masks: top-5 ids identical, probabilities within 1e-5, the pipeline\'s strings', async () => {
    const ours = await encoder.fillMask(FILL_TEXTS, { topK: 5 });
    const theirs = reference[SCORE_METRICS.length];
    ours.forEach((masks, t) => {
      expect(masks.length).toBe(theirs[t].masks.length);
      masks.forEach((candidates, k) => {
        const expected = theirs[t].masks[k].candidates;
        expect(candidates.map((c) => c.token), `text ${t} mask ${k}`).toEqual(expected.map((c) => c.token));
        candidates.forEach((candidate, j) => {
          expect(Math.abs(candidate.score - expected[j].score)).toBeLessThan(1e-5);
          expect(candidate.tokenStr).toBe(expected[j].token_str);
          // With several masks the python pipeline keeps special tokens in `sequence`; transformers.js and we do not.
          if (masks.length === 1) expect(candidate.sequence).toBe(expected[j].sequence);
        });
      });
    });
  });

  it('gives SPLADE vectors within 1e-4 of text-embeddings-inference\'s formula on HF\'s logits', async () => {
    const ours = await encoder.encodeSparse(TEXTS);
    const theirs = reference[SCORE_METRICS.length + 1];
    ours.forEach((vector, t) => {
      const dense = new Map<number, number>();
      theirs[t].indices.forEach((index, i) => dense.set(index, theirs[t].values[i]));
      vector.indices.forEach((index, i) => {
        expect(Math.abs(vector.values[i] - (dense.get(index) ?? 0)), `text ${t} id ${index}`).toBeLessThan(1e-4);
        dense.delete(index);
      });
      for (const [index, value] of dense) expect(value, `text ${t} id ${index} only in HF's`).toBeLessThan(1e-4);
      expect(vector.indices.length).toBeGreaterThan(100);
    });
  });
});

describe('the float64 reference model', () => {
  it('agrees with the original metric within 1e-4 (float32 engine, float64 math)', async () => {
    const dir = checkpointDir('mlm-odd-legacy-prefixed');
    const model = loadReferenceModel(dir);
    const encoder = await Encoder.load(dir, { maxSeqLen: MAX_SEQ_LEN });
    try {
      const texts = TEXTS.slice(0, 3);
      const scores = await encoder.score(texts, { metric: 'original' });
      const maskId = encoder.tokenizer.tokenToId('[MASK]')!;
      texts.forEach((text, t) => {
        const { ids, typeIds } = encoder.tokenizer.encode(text, undefined, { maxLength: MAX_SEQ_LEN });
        const scored = ids.map((_, i) => i).filter((i) => ids[i] !== encoder.tokenizer.clsId && ids[i] !== encoder.tokenizer.sepId);
        scored.forEach((position, i) => {
          const masked = [...ids];
          masked[position] = maskId;
          const states = referenceHiddenStates(model, masked, typeIds);
          const logProbs = referenceMaskedLmLogProbs(model, states[states.length - 1], position);
          expect(Math.abs(scores[t].tokens[i].logprob - logProbs[ids[position]]), `text ${t} token ${i}`).toBeLessThan(1e-4);
          const higher = logProbs.filter((value) => value > logProbs[ids[position]]).length;
          expect(Math.abs(scores[t].tokens[i].rank - (higher + 1))).toBeLessThanOrEqual(1);
        });
      });
    } finally {
      await encoder.close();
    }
  });
});
