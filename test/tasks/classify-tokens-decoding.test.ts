/**
 * lib/tasks/classify-tokens/entities.ts on its own, without the engine: transformers' token-classification pipeline
 * (test/reference/hf_token_classification.py) gives its windows' logits; the project's tokenizer
 * (WordPieceTokenizer.encodeWithOffsets) and planWindows must make the same windows (ids, offsets, special tokens),
 * and decodeEntities over those logits must give the pipeline's entities: all five strategies, ignoreLabels [] and
 * the default, pre-tokenized words, and long texts in stride windows. Labels, words, offsets and indices equal;
 * scores within 1e-5 (the logits go through float32, as the engine's do).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { WordPieceTokenizer } from '../../lib/tokenizer/index.js';
import {
  type AggregationStrategy,
  type ClassifiedToken,
  aggregateOverlappingEntities,
  decodeEntities,
  decodeWindows,
  decodeWordPieces,
  planWindows,
} from '../../lib/tasks/classify-tokens/entities.js';
import { TOKEN_LABELS, TOKEN_MAX_LENGTH, checkpointDir } from '../helpers/checkpoints.js';
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

/** The windows the engine would run for a text: [CLS], a span of content tokens, [SEP]; logits still to come. */
function ourWindows(tokenizer: WordPieceTokenizer, text: string, stride?: number): Omit<ClassifiedToken, 'logits'>[][] {
  const content = tokenizer.encodeWithOffsets(text, undefined, { addSpecialTokens: false, splitPairs: false });
  const edge = (id: number) => ({ token: tokenizer.idToToken(id)!, id, start: 0, end: 0, special: true });
  return planWindows(content.ids.length, TOKEN_MAX_LENGTH, stride).map(({ start, end }) => {
    const tokens = [edge(tokenizer.clsId)];
    // only what the post-processor adds is special to the pipeline: a [MASK] or [UNK] written in the text is not
    for (let i = start; i < end; i++) tokens.push({ token: content.tokens[i], id: content.ids[i], start: content.offsets[i][0], end: content.offsets[i][1], special: false });
    tokens.push(edge(tokenizer.sepId));
    return tokens;
  });
}

interface Case {
  job: HfTokenJob;
  label: string;
}

function jobsFor(model: (typeof MODELS)[number]): Case[] {
  const dir = checkpointDir(model);
  const cases: Case[] = [];
  const add = (label: string, job: Omit<HfTokenJob, 'op' | 'model' | 'windows'>) => cases.push({ label, job: { op: 'pipeline', model: dir, windows: true, ...job } });
  for (const strategy of STRATEGIES) {
    add(`${strategy}`, { inputs: TEXTS, aggregation_strategy: strategy });
    add(`${strategy}, ignore_labels []`, { inputs: TEXTS, aggregation_strategy: strategy, ignore_labels: [] });
    add(`${strategy}, words`, { inputs: WORD_LISTS, aggregation_strategy: strategy, is_split_into_words: true, ignore_labels: [] });
    for (const stride of STRIDES) {
      // the pipeline refuses an explicit 'none' with a stride, but runs its default 'none' (aggregation_strategy left out)
      add(`${strategy}, stride ${stride}`, { inputs: LONG_TEXTS, aggregation_strategy: strategy === 'none' ? null : strategy, stride, whole_text: true });
    }
  }
  return cases;
}

function strategyOf(job: HfTokenJob): AggregationStrategy {
  return job.aggregation_strategy ?? 'none';
}

/** The refusals' jobs follow the cases' in the same request. */
function refusalJobs(model: (typeof MODELS)[number]): HfTokenJob[] {
  const dir = checkpointDir(model);
  return [
    { op: 'pipeline', model: dir, inputs: [LONG_TEXTS[1]], aggregation_strategy: 'none', stride: 8 },
    { op: 'pipeline', model: dir, inputs: [LONG_TEXTS[1]], aggregation_strategy: 'simple', stride: TOKEN_MAX_LENGTH - 2 },
    // the text as one string: tokenizers 0.23's early exit (see the script) leaves most of it unlabelled
    { op: 'pipeline', model: dir, inputs: [LONG_TEXTS[1]], aggregation_strategy: 'simple', stride: 16, windows: true },
  ];
}

/** Each model's answers, one Python process per model, both started at once. */
const answers = new Map<string, HfTokenResult[][]>();
beforeAll(async () => {
  const all = await Promise.all(MODELS.map((model) => hfTokenClassification([...jobsFor(model).map((c) => c.job), ...refusalJobs(model)])));
  MODELS.forEach((model, i) => answers.set(model, all[i]));
});

describe.each(MODELS)('%s: the decoding against the pipeline, over its own logits', (model) => {
  const tokenizer = WordPieceTokenizer.fromModelDir(checkpointDir(model));
  const cases = jobsFor(model);
  let results: HfTokenResult[][];
  let refusals: HfTokenResult[][];

  beforeAll(() => {
    const all = answers.get(model)!;
    results = all.slice(0, cases.length);
    refusals = all.slice(cases.length);
  });

  it('the fixture: every label wins somewhere, B-/I- runs group, and no two best logits are near a tie', () => {
    const all = results.flat();
    const argmaxLabels = new Set<string>();
    for (const result of all) {
      for (const window of result.windows ?? []) {
        window.logits.forEach((row, t) => {
          if (!window.special[t]) argmaxLabels.add(TOKEN_LABELS[row.indexOf(Math.max(...row))]);
        });
      }
    }
    expect([...argmaxLabels].sort()).toEqual([...TOKEN_LABELS].sort());
    const simple = results[cases.findIndex((c) => c.label === 'simple, ignore_labels []')];
    // a group of several tokens is wider than its first token: some B-/I- or I-/I- run was merged
    expect(simple.flatMap((result) => result.entities).some((entity) => entity.word.includes(' '))).toBe(true);
    expect(simple.flatMap((result) => result.entities).some((entity) => entity.entity_group === 'O')).toBe(true);
    expect(smallestTopTwoGap(all)).toBeGreaterThan(1e-4);
  });

  it('the project tokenizer and planWindows make the pipeline\'s windows: ids, offsets and special tokens', () => {
    let windows = 0;
    cases.forEach(({ job, label }, j) => {
      job.inputs.forEach((input, i) => {
        const theirs = results[j][i];
        expect(theirs.error, `${label} inputs[${i}]`).toBeUndefined();
        const text = Array.isArray(input) ? input.join(' ') : input;
        expect(theirs.text).toBe(text);
        const ours = ourWindows(tokenizer, text, job.stride ?? undefined);
        expect(ours.length, `${label} inputs[${i}]: windows`).toBe(theirs.windows!.length);
        ours.forEach((window, w) => {
          const expected = theirs.windows![w];
          const where = `${label} inputs[${i}] window ${w}`;
          expect(window.map((t) => t.id), where).toEqual(expected.ids);
          expect(window.map((t) => [t.start, t.end]), where).toEqual(expected.offsets);
          expect(window.map((t) => (t.special ? 1 : 0)), where).toEqual(expected.special);
          windows++;
        });
      });
    });
    // the long texts take several windows, the long text of TEXTS is truncated
    expect(results[cases.findIndex((c) => c.label === 'simple, stride 16')][1].windows!.length).toBeGreaterThanOrEqual(5);
    expect(results[0][TEXTS.length - 1].truncated).toBe(true);
    expect(windows).toBeGreaterThan(100);
  });

  it.each(STRATEGIES)('%s: the pipeline\'s entities from its logits, ignore_labels default and [], texts and words', (strategy) => {
    cases.forEach(({ job, label }, j) => {
      if (strategyOf(job) !== strategy || job.stride != null) return;
      job.inputs.forEach((input, i) => {
        const theirs = results[j][i];
        const windows = ourWindows(tokenizer, theirs.text).map((window, w) =>
          window.map((token, t) => ({ ...token, logits: Float32Array.from(theirs.windows![w].logits[t]) })),
        );
        const ours = decodeEntities(theirs.text, windows, {
          labels: TOKEN_LABELS,
          aggregationStrategy: strategy,
          ignoreLabels: job.ignore_labels ?? ['O'],
          unkId: tokenizer.unkId,
          continuingSubwordPrefix: tokenizer.config.continuingSubwordPrefix,
          decoderCleanup: tokenizer.config.decoderCleanup,
        });
        expectSameEntities(ours, theirs.entities, `${label} inputs[${i}] ${JSON.stringify(theirs.text)}`);
      });
    });
  });

  it.each(STRATEGIES)('%s: long texts in stride windows, overlapping entities resolved as the pipeline', (strategy) => {
    let compared = 0;
    cases.forEach(({ job, label }, j) => {
      if (strategyOf(job) !== strategy || job.stride == null) return;
      job.inputs.forEach((input, i) => {
        const theirs = results[j][i];
        const windows = ourWindows(tokenizer, theirs.text, job.stride!).map((window, w) =>
          window.map((token, t) => ({ ...token, logits: Float32Array.from(theirs.windows![w].logits[t]) })),
        );
        expect(windows.length).toBeGreaterThan(1);
        const ours = decodeEntities(theirs.text, windows, { labels: TOKEN_LABELS, aggregationStrategy: strategy, ignoreLabels: ['O'], unkId: tokenizer.unkId });
        expectSameEntities(ours, theirs.entities, `${label} inputs[${i}]`);
        compared++;
      });
    });
    expect(compared).toBe(STRIDES.length * LONG_TEXTS.length);
  });

  it('decodeWindows (content tokens and a logits function) gives what decodeEntities gives', () => {
    const j = cases.findIndex((c) => c.label === 'first, stride 16');
    const theirs = results[j][1];
    const windows = ourWindows(tokenizer, theirs.text, 16).map((window, w) => ({
      tokens: window.slice(1, -1),
      logits: (i: number) => Float32Array.from(theirs.windows![w].logits[i + 1]),
      firstIndex: 1,
    }));
    expectSameEntities(decodeWindows(theirs.text, windows, { labels: TOKEN_LABELS, strategy: 'first', ignoreLabels: ['O'], unkId: tokenizer.unkId }), theirs.entities, 'first, stride 16');
    const k = cases.findIndex((c) => c.label === 'none, ignore_labels []');
    TEXTS.forEach((text, i) => {
      const result = results[k][i];
      const content = ourWindows(tokenizer, text).map((window, w) => ({
        tokens: window.slice(1, -1),
        logits: (t: number) => Float32Array.from(result.windows![w].logits[1 + t]),
        firstIndex: 1,
      }));
      // the unknown token known by its string only
      expectSameEntities(decodeWindows(text, content, { labels: TOKEN_LABELS, strategy: 'none', ignoreLabels: [] }), result.entities, `none [] inputs[${i}]`);
    });
  });

  it('what the pipeline refuses, and the windows tokenizers 0.23 makes of a whole string', () => {
    const [explicitNone, strideTooLarge, asOneString] = refusals.map((r) => r[0]);
    expect(explicitNone.error).toMatch(/^ValueError: `stride` was provided/);
    expect(strideTooLarge.error).toMatch(/stride.* must be strictly less than `max_len=46`/);
    expect(() => planWindows(500, TOKEN_MAX_LENGTH, TOKEN_MAX_LENGTH - 2)).toThrow(RangeError);
    // Only about the first TOKEN_MAX_LENGTH tokens are read and labelled (huggingface/tokenizers#2091). If this
    // fails, tokenizers reads the whole text again: whole_text is no longer needed.
    expect(asOneString.windows!.length).toBe(2);
    const lastEnd = Math.max(...asOneString.entities.map((entity) => entity.end));
    expect(lastEnd).toBeLessThan(asOneString.text.length / 2);
  });
});

describe('decoding rules on their own', () => {
  it('planWindows: tokenizers\' truncate with stride (0.22.2: 10 tokens, max_length 6, stride 2 -> 4 windows)', () => {
    const spans = (length: number, maxSeqLen: number, stride?: number) => planWindows(length, maxSeqLen, stride).map(({ start, end }) => [start, end]);
    expect(spans(10, 6, 2)).toEqual([[0, 4], [2, 6], [4, 8], [6, 10]]);
    expect(spans(10, 6, 0)).toEqual([[0, 4], [4, 8], [8, 10]]);
    expect(spans(10, 6, 3)).toEqual([[0, 4], [1, 5], [2, 6], [3, 7], [4, 8], [5, 9], [6, 10]]);
    expect(spans(4, 6, 3)).toEqual([[0, 4]]);
    expect(spans(10, 6)).toEqual([[0, 4]]);
    expect(spans(0, 6, 1)).toEqual([[0, 0]]);
    expect(() => planWindows(10, 6, 4)).toThrow(/stride/);
    expect(() => planWindows(10, 6, -1)).toThrow(RangeError);
    expect(() => planWindows(10, 6, 1.5)).toThrow(TypeError);
  });

  it('decodeWordPieces: tokenizers\' WordPiece decoder with cleanup (BertTokenizerFast.convert_tokens_to_string)', () => {
    // what transformers 5.18 / tokenizers 0.23.2 answer for these tokens
    const tokens = ['hello', '##s', ',', 'world', '.', "'", 's', 'do', 'not', '[UNK]', 'Café', "n't", '##.', '.'];
    expect(decodeWordPieces(tokens)).toBe("hellos, world. ' s do not [UNK] Cafén't..");
    expect(decodeWordPieces(['##s', 'a'])).toBe('##s a');
    expect(decodeWordPieces(['a', ',', 'b'], '##', false)).toBe('a , b');
  });

  it('aggregateOverlappingEntities: the longer wins, then the higher score, then the earlier', () => {
    const e = (start: number, end: number, score: number, word: string) => ({ start, end, score, word });
    expect(aggregateOverlappingEntities([e(0, 4, 0.5, 'a'), e(2, 8, 0.1, 'b'), e(10, 12, 0.3, 'c'), e(10, 12, 0.9, 'd'), e(10, 12, 0.9, 'e')]).map((x) => x.word)).toEqual(['b', 'd']);
    expect(aggregateOverlappingEntities([])).toEqual([]);
  });

  it('a label in neither B- nor I- form is its own tag; a group is named after its first label\'s text after "-"', () => {
    const token = (start: number, logits: number[]): ClassifiedToken => ({ token: 'w', id: 5, start, end: start + 1, special: false, logits });
    const labels = ['O', 'B-PER', 'I-PER', 'X-Y-Z'];
    const windows = [[token(0, [0, 9, 0, 0]), token(2, [0, 0, 9, 0]), token(4, [0, 0, 0, 9]), token(6, [0, 0, 0, 9]), token(8, [9, 0, 0, 0]), token(10, [9, 0, 0, 0])]];
    const groups = decodeEntities('a b c d e f', windows, { labels, aggregationStrategy: 'simple', ignoreLabels: [], unkId: 0 });
    expect(groups.map((g) => ['entity_group' in g ? g.entity_group : '', g.start, g.end])).toEqual([
      ['PER', 0, 3],
      ['Y-Z', 4, 7],
      ['O', 8, 11],
    ]);
  });
});
