/**
 * Pseudo-log-likelihood scoring with BERT's masked-LM head (Salazar et al. 2020): every scored
 * token is predicted from a copy of the sentence in which it is masked. The metric says what else
 * each copy masks. Each copy is one row for the scheduler, batched by length with everything else.
 */
import type { TokenizedSentence } from '../../engine/batch-scheduler.js';
import type { EncodingWithOffsets } from '../../tokenizer/index.js';
import { maskedLmRow, type MaskedLmSlot } from '../shared/masked-lm-head.js';

export const SCORE_METRICS = ['original', 'within_word_l2r', 'whole_word'] as const;
/**
 * original: mask the token alone. within_word_l2r (default; Kauf & Ivanova 2023): mask the token
 * and the later pieces of its word, so a word's first piece cannot be read off its own later pieces.
 * whole_word: mask every piece of a word at once, one copy per word.
 */
export type ScoreMetric = (typeof SCORE_METRICS)[number];

export interface ScoredToken {
  token: string;
  id: number;
  /** UTF-16 offsets into the input string */
  start: number;
  end: number;
  /** natural log of the token's probability given the copy it was scored in */
  logprob: number;
  /** 1 + the number of vocabulary ids with a higher logit */
  rank: number;
}

export interface ScoredWord {
  word: string;
  start: number;
  end: number;
  /** sum of its tokens' logprobs */
  logprob: number;
  /** indexes into `tokens` */
  tokens: number[];
}

export interface SentenceScore {
  tokens: ScoredToken[];
  words: ScoredWord[];
  /** pseudo-log-likelihood: the sum of token logprobs */
  pll: number;
  /** exp(-pll / tokens); 1 for a sentence with no token to score */
  pseudoPerplexity: number;
  /** exp(-pll / words) */
  wordPseudoPerplexity: number;
  /** the input was longer than maxSeqLen and only its beginning was scored */
  truncated: boolean;
}

/** One masked copy: which positions are masked and which of them it scores. */
interface MaskedCopy {
  masked: number[];
  scored: number[];
}

/** The copies of one sentence and how their answers become its score. */
export class SentenceScoring {
  /** positions of the scored tokens: all but [CLS] and every [SEP] */
  readonly #scored: number[];
  /** each word's positions, in order */
  readonly #words: number[][];
  readonly #copies: MaskedCopy[];

  constructor(
    readonly text: string | string[],
    readonly encoding: EncodingWithOffsets,
    readonly truncated: boolean,
    metric: ScoreMetric,
  ) {
    const { sequenceIds, wordIds } = encoding;
    this.#scored = [];
    this.#words = [];
    let previousKey = '';
    for (let position = 0; position < encoding.ids.length; position++) {
      if (sequenceIds[position] === null) continue;
      this.#scored.push(position);
      const key = `${sequenceIds[position]}:${wordIds[position]}`;
      if (key !== previousKey) this.#words.push([]);
      this.#words[this.#words.length - 1].push(position);
      previousKey = key;
    }
    this.#copies = copiesFor(metric, this.#scored, this.#words);
  }

  get copyCount(): number {
    return this.#copies.length;
  }

  /** The most positions one copy scores: the scheduler's slots per row. */
  get slotsNeeded(): number {
    return Math.max(0, ...this.#copies.map((copy) => copy.scored.length));
  }

  /** Row `index` for the scheduler, its scored positions padded to `slots` with -1. */
  copy(index: number, maskId: number, slots: number): TokenizedSentence {
    const { masked, scored } = this.#copies[index];
    const ids = [...this.encoding.ids];
    for (const position of masked) ids[position] = maskId;
    return maskedLmRow(ids, this.encoding.typeIds, scored, scored.map((position) => this.encoding.ids[position]), slots);
  }

  /** The score from the answers of this sentence's copies: `answerOf(copy, slot)`, copies in copy order. */
  result(answerOf: (copy: number, slot: number) => MaskedLmSlot): SentenceScore {
    const logprobs = new Map<number, number>();
    const ranks = new Map<number, number>();
    this.#copies.forEach((copy, index) => {
      copy.scored.forEach((position, slot) => {
        const { logprob, rank } = answerOf(index, slot);
        logprobs.set(position, logprob);
        ranks.set(position, rank);
      });
    });
    const { encoding, text } = this;
    const tokenIndex = new Map<number, number>();
    const tokens = this.#scored.map((position, index): ScoredToken => {
      tokenIndex.set(position, index);
      const [start, end] = encoding.offsets[position];
      return { token: encoding.tokens[position], id: encoding.ids[position], start, end, logprob: logprobs.get(position)!, rank: ranks.get(position)! };
    });
    const words = this.#words.map((positions): ScoredWord => {
      const start = encoding.offsets[positions[0]][0];
      const end = encoding.offsets[positions[positions.length - 1]][1];
      const word = Array.isArray(text) ? encoding.tokens[positions[0]] : text.slice(start, end);
      const logprob = positions.reduce((sum, position) => sum + logprobs.get(position)!, 0);
      return { word, start, end, logprob, tokens: positions.map((position) => tokenIndex.get(position)!) };
    });
    const pll = tokens.reduce((sum, token) => sum + token.logprob, 0);
    return {
      tokens,
      words,
      pll,
      pseudoPerplexity: Math.exp(-pll / Math.max(1, tokens.length)),
      wordPseudoPerplexity: Math.exp(-pll / Math.max(1, words.length)),
      truncated: this.truncated,
    };
  }
}

function copiesFor(metric: ScoreMetric, scored: number[], words: number[][]): MaskedCopy[] {
  switch (metric) {
    case 'original':
      return scored.map((position) => ({ masked: [position], scored: [position] }));
    case 'within_word_l2r':
      return words.flatMap((word) => word.map((position, piece) => ({ masked: word.slice(piece), scored: [position] })));
    case 'whole_word':
      return words.map((word) => ({ masked: word, scored: word }));
  }
}
