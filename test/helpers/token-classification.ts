/**
 * What the token-classification suites share: their texts, transformers' token-classification pipeline
 * (test/reference/hf_token_classification.py, one Python process per call) and the comparison of entities
 * (labels, words and offsets equal; scores within 1e-5).
 */
import { expect } from 'vitest';
import path from 'node:path';
import type { AggregationStrategy } from '../../lib/tasks/classify-tokens/entities.js';
import { repoRoot } from '../reference/helpers.js';
import { runReferenceScript } from '../reference/hf-mlm.js';
import { stsSentences } from './sts.js';

export const STRATEGIES: readonly AggregationStrategy[] = ['none', 'simple', 'first', 'average', 'max'];

/**
 * Texts within TOKEN_MAX_LENGTH but the last: accents (NFC, and NFD where an accent is its own code point, which the
 * pipeline's subword test counts), CJK, emoji ([UNK], alone and inside a word; ❤️'s variation selector, which the
 * normalizer drops), punctuation the WordPiece decoder glues, [MASK] and [UNK] written in the text (special tokens
 * of the vocabulary, yet labelled like any other token: the pipeline skips only what the post-processor adds), whitespace other than spaces, and a text longer than TOKEN_MAX_LENGTH (truncated).
 */
export const TEXTS = [
  'My name is Wolfgang and I live in Berlin.',
  "Café owners in Zürich disagreed about naïve résumés, didn't they?",
  'Cafe\u0301 in NFD: the accent of Zu\u0308rich is its own code point.',
  '東京タワーは日本にあります。李白和杜甫是诗人。',
  'I ❤️ pizza 🍕 and x😀y said 👩‍👩‍👧!! Ünïcödé 𝒳.',
  'Hello, world... (really?) #1 & 50% off: [MASK] now [UNK]!',
  "Don't stop; it's O'Neil's \"quote\", isn't it?",
  '  leading spaces\tand\ttabs\nand a newline  ',
  'The unbelievably long-winded committee in Saskatchewan reconvened on Tuesday afternoon, and after a great deal of ' +
    'deliberation about the budget, the parks, the roads and the libraries, it adjourned again without a single vote.',
];

/** Pre-tokenized texts (is_split_into_words): words with subwords, accents, an emoji word and punctuation words. */
export const WORD_LISTS = [
  ['Wolfgang', 'lives', 'in', 'Zürich', ',', 'unbelievably', '😀', 'x😀y', '.'],
  ['東京', 'is', 'in', 'Japan', '!'],
];

/** Whole STS-B test sentences joined by single spaces until a text has at least `tokens` words' worth of length. */
function longText(first: number, words: number): string {
  const sentences = stsSentences('test');
  const parts: string[] = [];
  let count = 0;
  for (let i = first; count < words; i++) {
    const sentence = sentences[i].trim().replace(/\s+/g, ' ');
    parts.push(sentence);
    count += sentence.split(' ').length;
  }
  return parts.join(' ');
}

/**
 * Texts of several windows at TOKEN_MAX_LENGTH: only single spaces, so that the pipeline's whole-text windows can be
 * had (hf_token_classification.py's whole_text).
 */
export const LONG_TEXTS = [longText(0, 70), longText(40, 160)];
export const STRIDES = [0, 16];

export interface HfEntity {
  entity?: string;
  entity_group?: string;
  score: number;
  index?: number;
  word: string;
  start: number;
  end: number;
}

export interface HfWindow {
  ids: number[];
  /** UTF-16, absolute into the result's text */
  offsets: [number, number][];
  special: (0 | 1)[];
  logits: number[][];
}

export interface HfTokenResult {
  /** the sentence the offsets index: the text, or the words joined by ' ' */
  text: string;
  entities: HfEntity[];
  windows?: HfWindow[];
  truncated: boolean;
  error?: string;
}

export interface HfTokenJob {
  op: 'pipeline';
  model: string;
  inputs: (string | string[])[];
  max_length?: number;
  /** null or left out: not passed (the pipeline's default, 'none') */
  aggregation_strategy?: AggregationStrategy | null;
  /** null or left out: not passed (['O']) */
  ignore_labels?: string[] | null;
  stride?: number | null;
  is_split_into_words?: boolean;
  /** run each text as its words (text.split(' ')), for windows over the whole text (see the script) */
  whole_text?: boolean;
  /** also give each window the model ran: ids, offsets, special flags, logits */
  windows?: boolean;
}

const script = path.join(repoRoot, 'test', 'reference', 'hf_token_classification.py');

/** The pipeline on every job, in one Python process: one result list per job, one result per input. */
export async function hfTokenClassification(jobs: HfTokenJob[]): Promise<HfTokenResult[][]> {
  return (await runReferenceScript(script, jobs)) as HfTokenResult[][];
}

function shown(entities: readonly object[]): string {
  return entities
    .map((entity) => {
      const e = entity as HfEntity;
      return `${e.entity ?? e.entity_group}${e.index === undefined ? '' : `#${e.index}`} ${JSON.stringify(e.word)} [${e.start},${e.end}) ${e.score.toFixed(6)}`;
    })
    .join('\n  ');
}

/** Our entities against the pipeline's: the same fields, labels, words, offsets and indices; scores within 1e-5. */
export function expectSameEntities(ours: readonly object[], theirs: readonly HfEntity[], label: string): void {
  const context = `${label}\nours:\n  ${shown(ours)}\ntransformers:\n  ${shown(theirs)}`;
  expect(ours.length, context).toBe(theirs.length);
  ours.forEach((entity, i) => {
    const { score, ...rest } = entity as HfEntity;
    const { score: expectedScore, ...expected } = theirs[i];
    expect(rest, `${context}\nentity ${i}`).toEqual(expected);
    expect(Math.abs(score - expectedScore), `${context}\nentity ${i} score`).toBeLessThan(1e-5);
  });
}

/** The smallest gap between a token's two highest logits over the non-special tokens of every window. */
export function smallestTopTwoGap(results: readonly HfTokenResult[]): number {
  let smallest = Infinity;
  for (const result of results) {
    for (const window of result.windows ?? []) {
      window.logits.forEach((row, t) => {
        if (window.special[t]) return;
        const sorted = [...row].sort((a, b) => b - a);
        smallest = Math.min(smallest, sorted[0] - sorted[1]);
      });
    }
  }
  return smallest;
}
