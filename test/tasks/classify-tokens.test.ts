/**
 * Encoder.classifyTokens against transformers' token-classification pipeline (float64 BertForTokenClassification,
 * test/reference/hf_token_classification.py) on two random-weight checkpoints (bert-tiny's and all-MiniLM-L6-v2's
 * configs): all five aggregation strategies, ignoreLabels [] and the default, accents / CJK / emoji / punctuation,
 * pre-tokenized words (is_split_into_words), long texts in stride windows, a text longer than maxSeqLen cut as the
 * pipeline cuts it (and refused with truncate: false), and a model without the head. Labels, words, offsets and
 * indices equal; scores within 1e-5. The pipeline's windows are model_max_length (tokenizer_config.json) = maxSeqLen.
 *
 * Stride: tokenizers 0.23 (what transformers 5.18 needs) reads a truncated text only up to model_max_length tokens,
 * so pipeline(text, stride) labels just its beginning (huggingface/tokenizers#2091; test/tasks/
 * classify-tokens-decoding.test.ts keeps an eye on it). The texts are compared with the pipeline run on their words
 * (whole_text), which gives the windows over the whole text that tokenizers 0.22 gave; pre-tokenized input is
 * compared with the pipeline's is_split_into_words directly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Encoder } from '../../lib/index.js';
import { TOKEN_MAX_LENGTH, checkpointDir } from '../helpers/checkpoints.js';
import {
  LONG_TEXTS,
  STRATEGIES,
  STRIDES,
  TEXTS,
  WORD_LISTS,
  type HfTokenJob,
  type HfTokenResult,
  expectSameEntities,
  hfTokenClassification,
  smallestTopTwoGap,
} from '../helpers/token-classification.js';

const MODELS = ['token-tiny', 'token-minilm'] as const;
type Model = (typeof MODELS)[number];
const MAX_SEQ_LEN = TOKEN_MAX_LENGTH;
const GROUPING = STRATEGIES.filter((strategy) => strategy !== 'none');
const LONG_WORDS = LONG_TEXTS[1].split(' ');
const STRIDE = 16;

type Options = Parameters<Encoder['classifyTokens']>[1];

/** The reference jobs of one model, by name. */
function jobsOf(model: Model): Record<string, HfTokenJob> {
  const base = { op: 'pipeline' as const, model: checkpointDir(model) };
  const jobs: Record<string, HfTokenJob> = {};
  for (const strategy of STRATEGIES) {
    jobs[strategy] = { ...base, inputs: TEXTS, aggregation_strategy: strategy, windows: strategy === 'none' };
    jobs[`${strategy} []`] = { ...base, inputs: TEXTS, aggregation_strategy: strategy, ignore_labels: [] };
    jobs[`${strategy} words`] = { ...base, inputs: WORD_LISTS, aggregation_strategy: strategy, is_split_into_words: true, ignore_labels: [] };
  }
  for (const strategy of GROUPING) {
    for (const stride of STRIDES) {
      jobs[`${strategy} stride ${stride}`] = { ...base, inputs: LONG_TEXTS, aggregation_strategy: strategy, stride, whole_text: true, windows: true };
    }
    jobs[`${strategy} words stride`] = { ...base, inputs: [LONG_WORDS], aggregation_strategy: strategy, stride: STRIDE, is_split_into_words: true };
    jobs[`${strategy} truncated`] = { ...base, inputs: LONG_TEXTS, aggregation_strategy: strategy };
  }
  return jobs;
}

type References = Record<string, HfTokenResult[]>;

/** Every job of both models, one Python process per model, both started at once. */
let references: Record<Model, References>;
beforeAll(async () => {
  const answers = await Promise.all(
    MODELS.map(async (model) => {
      const jobs = jobsOf(model);
      const results = await hfTokenClassification(Object.values(jobs));
      return Object.fromEntries(Object.keys(jobs).map((name, i) => [name, results[i]])) as References;
    }),
  );
  references = Object.fromEntries(MODELS.map((model, i) => [model, answers[i]])) as Record<Model, References>;
});

function expectAllSame(ours: readonly object[][], theirs: readonly HfTokenResult[], label: string, inputs: readonly unknown[]): void {
  expect(ours.length, label).toBe(theirs.length);
  theirs.forEach((result, i) => {
    expect(result.error, `${label} inputs[${i}]`).toBeUndefined();
    expectSameEntities(ours[i], result.entities, `${label} inputs[${i}] ${JSON.stringify(inputs[i])}`);
  });
}

describe.each(MODELS)('%s: classifyTokens against the token-classification pipeline', (model) => {
  let encoder: Encoder;
  let hf: References;

  beforeAll(async () => {
    encoder = await Encoder.load(checkpointDir(model), { maxSeqLen: MAX_SEQ_LEN });
    hf = references[model];
  });
  afterAll(() => encoder?.close());

  it('the references: no near-tie between a token\'s two best logits that float32 could flip', () => {
    const windows = [hf.none, ...GROUPING.flatMap((strategy) => STRIDES.map((stride) => hf[`${strategy} stride ${stride}`]))].flat();
    expect(smallestTopTwoGap(windows)).toBeGreaterThan(1e-4);
  });

  it('all five strategies, ignoreLabels default and [], answered in one batch: accents, CJK, emoji, punctuation', async () => {
    const calls = STRATEGIES.flatMap((strategy) => [
      encoder.classifyTokens(TEXTS, { aggregationStrategy: strategy }),
      encoder.classifyTokens(TEXTS, { aggregationStrategy: strategy, ignoreLabels: [] }),
    ]);
    const answers = await Promise.all(calls);
    STRATEGIES.forEach((strategy, s) => {
      expectAllSame(answers[2 * s], hf[strategy], strategy, TEXTS);
      expectAllSame(answers[2 * s + 1], hf[`${strategy} []`], `${strategy} ignoreLabels []`, TEXTS);
    });
    // 'none' is the default, one text as well as several
    expectAllSame(await encoder.classifyTokens(TEXTS), hf.none, 'default strategy', TEXTS);
    expectAllSame(await encoder.classifyTokens([TEXTS[4]]), [hf.none[4]], 'one text', [TEXTS[4]]);
  });

  it.each(STRATEGIES)('%s: pre-tokenized words (isTokenized), as is_split_into_words', async (strategy) => {
    const ours = await encoder.classifyTokens(WORD_LISTS, { isTokenized: true, aggregationStrategy: strategy, ignoreLabels: [] });
    expectAllSame(ours, hf[`${strategy} words`], `${strategy} words`, WORD_LISTS);
  });

  it.each(GROUPING)('%s: long texts in stride windows, as the pipeline\'s stride over the whole text', async (strategy) => {
    for (const stride of STRIDES) {
      const theirs = hf[`${strategy} stride ${stride}`];
      expect(theirs.every((result) => result.windows!.length > 1)).toBe(true);
      expectAllSame(await encoder.classifyTokens(LONG_TEXTS, { aggregationStrategy: strategy, stride }), theirs, `${strategy} stride ${stride}`, LONG_TEXTS);
    }
    const words = await encoder.classifyTokens([LONG_WORDS], { isTokenized: true, aggregationStrategy: strategy, stride: STRIDE });
    expectAllSame(words, hf[`${strategy} words stride`], `${strategy} words stride ${STRIDE}`, [LONG_WORDS.join(' ')]);
  });

  it('a text longer than maxSeqLen without a stride: cut as the pipeline cuts it at model_max_length', async () => {
    for (const strategy of GROUPING) {
      const theirs = hf[`${strategy} truncated`];
      expect(theirs.every((result) => result.truncated)).toBe(true);
      expectAllSame(await encoder.classifyTokens(LONG_TEXTS, { aggregationStrategy: strategy }), theirs, `${strategy} truncated`, LONG_TEXTS);
      expectAllSame(await encoder.classifyTokens(LONG_TEXTS, { aggregationStrategy: strategy, truncate: true }), theirs, `${strategy} truncate: true`, LONG_TEXTS);
    }
    // the last of TEXTS is longer than maxSeqLen too
    expect(hf.none[TEXTS.length - 1].truncated).toBe(true);
  });

  it('truncate: false refuses a text longer than maxSeqLen with ERR_INPUT_TOO_LONG, naming it, and labels those that fit', async () => {
    const long = TEXTS.length - 1;
    await expect(encoder.classifyTokens(TEXTS, { truncate: false })).rejects.toMatchObject({ code: 'ERR_INPUT_TOO_LONG', message: expect.stringContaining(`[${long}]`) });
    const fitting = TEXTS.slice(0, long);
    expectAllSame(await encoder.classifyTokens(fitting, { truncate: false }), hf.none.slice(0, long), 'truncate: false', fitting);
    // a stride labels it whole: nothing to refuse
    const strided = await encoder.classifyTokens(LONG_TEXTS, { aggregationStrategy: 'simple', stride: STRIDE, truncate: false });
    expectAllSame(strided, hf[`simple stride ${STRIDE}`], 'stride with truncate: false', LONG_TEXTS);
  });

  it('what the pipeline refuses: an explicit \'none\' with a stride, a stride that leaves a window no room to move', async () => {
    await expect(encoder.classifyTokens(LONG_TEXTS, { aggregationStrategy: 'none', stride: STRIDE })).rejects.toThrow(RangeError);
    await expect(encoder.classifyTokens(LONG_TEXTS, { aggregationStrategy: 'simple', stride: MAX_SEQ_LEN - 2 })).rejects.toThrow(RangeError);
    await expect(encoder.classifyTokens(LONG_TEXTS, { aggregationStrategy: 'simple', stride: MAX_SEQ_LEN - 2 })).rejects.toThrow(/stride/);
    await expect(encoder.classifyTokens(LONG_TEXTS, { aggregationStrategy: 'simple', stride: -1 })).rejects.toThrow(RangeError);
    await expect(encoder.classifyTokens(TEXTS, { aggregationStrategy: 'grouped' } as unknown as Options)).rejects.toThrow(/aggregationStrategy/);
    await expect(encoder.classifyTokens(TEXTS, { ignoreLabels: 'O' } as unknown as Options)).rejects.toThrow(/ignoreLabels/);
  });
});

describe('a model without BertForTokenClassification\'s head', () => {
  // a plain BertModel, and a sequence classifier: its classifier.* tensors have the same names, and architectures
  // (BertForSequenceClassification) says they are not a token classifier's
  it.each(['tiny', 'classifier-3'] as const)('%s: ERR_NO_TOKEN_CLASSIFIER_HEAD', async (name) => {
    const encoder = await Encoder.load(checkpointDir(name));
    try {
      await expect(encoder.classifyTokens(['Berlin is in Germany.'])).rejects.toMatchObject({ code: 'ERR_NO_TOKEN_CLASSIFIER_HEAD' });
    } finally {
      await encoder.close();
    }
  });

  it('a token classifier is not a sequence classifier: classify answers ERR_NO_CLASSIFIER_HEAD', async () => {
    const encoder = await Encoder.load(checkpointDir('token-tiny'), { maxSeqLen: MAX_SEQ_LEN });
    try {
      await expect(encoder.classify(['Berlin is in Germany.'])).rejects.toMatchObject({ code: 'ERR_NO_CLASSIFIER_HEAD' });
    } finally {
      await encoder.close();
    }
  });
});
