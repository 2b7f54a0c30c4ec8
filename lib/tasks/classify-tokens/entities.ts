/**
 * Token classification's result decoding, as transformers' TokenClassificationPipeline does it
 * (pipelines/token_classification.py, 5.x): from each token's label logits to the entities the pipeline returns.
 * Pure: no engine, no tokenizer; the caller hands over each window's tokens (string, id, offsets, special flag,
 * logits) and the text they index.
 *
 * What it reproduces, rule by rule (test/reference/hf_token_classification.py tells how each was checked):
 * - scores: a softmax over each token's logits; a token's label is the first highest score's (numpy's argmax).
 * - 'none': one entity per non-special token, `{ entity, score, index, word, start, end }`; index is the token's
 *   position in its window ([CLS] is 0), word the vocabulary token ('##' kept).
 * - subwords: a token is a subword when its string and the text it covers differ in length, in code points
 *   (Python's len(word) != len(sentence[start:end])): "##ing" over "ing" is one, "cafe" over "café" is not, but
 *   "cafe" over "cafe\u0301" (NFD) is. An [UNK] token is never a subword, and its word is the text it covers.
 * - 'simple': adjacent tokens grouped by B-/I- tags; 'first' / 'average' / 'max' first make each word (a token and
 *   the subwords after it) one entity by its first token's label, its mean score vector's argmax, or the label of
 *   its token with the highest score, then group the words the same way.
 * - word of a group: tokenizers' WordPiece decoder (convert_tokens_to_string); for the word strategies the decoded
 *   words are decoded again as tokens, as the pipeline does.
 * - ignoreLabels: an entity whose label (or group name) is listed is left out, window by window.
 * - several windows (stride): every window's entities, sorted by start, overlapping ones resolved by
 *   aggregate_overlapping_entities (the longer, then the higher score, then the earlier).
 * Offsets here are UTF-16 code units (as everywhere in this API); code-point lengths are counted where the pipeline
 * compares Python string lengths.
 */

import { checkInteger, fieldError } from '../../validation.js';
import { decodeWordPieces } from '../../tokenizer/decoder.js';

export const AGGREGATION_STRATEGIES = ['none', 'simple', 'first', 'average', 'max'] as const;
export type AggregationStrategy = (typeof AGGREGATION_STRATEGIES)[number];

/** 'none': one per token. */
export interface TokenLabel {
  entity: string;
  score: number;
  /** the token's position in its window ([CLS] is 0) */
  index: number;
  word: string;
  start: number;
  end: number;
}

/** 'simple', 'first', 'average', 'max': one per group of tokens. */
export interface EntityGroup {
  entity_group: string;
  score: number;
  word: string;
  start: number;
  end: number;
}

/** What the pipeline returns for a token or a group of tokens. */
export type TokenEntity = TokenLabel | EntityGroup;

/** One token of a window, as the model saw it. */
export interface ClassifiedToken {
  /** the vocabulary's string for the token ('##' kept) */
  token: string;
  id: number;
  /** [start, end) in UTF-16 code units of the text ([0, 0] for [CLS] and [SEP]) */
  start: number;
  end: number;
  /** [CLS], [SEP], padding: never an entity (the pipeline's special_tokens_mask) */
  special: boolean;
  /** the token's logits, one per label */
  logits: ArrayLike<number>;
}

export interface EntityDecoding {
  /** id2label: the label of each logit */
  labels: readonly string[];
  aggregationStrategy: AggregationStrategy;
  /** labels (or group names) left out; the pipeline's default is ['O'] */
  ignoreLabels: readonly string[];
  /** the tokenizer's unknown-token id: an [UNK]'s word is the text it covers */
  unkId: number;
  /** the WordPiece decoder's continuation prefix (default '##') */
  continuingSubwordPrefix?: string;
  /** the WordPiece decoder's cleanup (default true): " ." → ".", " n't" → "n't", … */
  decoderCleanup?: boolean;
}

/** A token with its scores, as gather_pre_entities makes it. */
interface PreEntity {
  word: string;
  scores: Float64Array;
  start: number;
  end: number;
  index: number;
  isSubword: boolean;
}

/** An entity before grouping (aggregate's and aggregate_word's dicts). */
interface LabelledToken {
  entity: string;
  score: number;
  index?: number;
  word: string;
  start: number;
  end: number;
}

/** Code points in text[start, end): Python's len() of the slice. */
function codePointLength(text: string, start: number, end: number): number {
  let count = 0;
  for (let i = start; i < end; i++) {
    const unit = text.charCodeAt(i);
    // a lead surrogate followed by a trail surrogate is one code point
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < end) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}

/** numpy's argmax: the first highest value, or the first NaN. */
function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) return i;
    if (values[i] > values[best]) best = i;
  }
  return best;
}

/** numpy's max: NaN when any value is NaN. */
function maxOf(values: ArrayLike<number>): number {
  let best = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) return NaN;
    if (values[i] > best) best = values[i];
  }
  return best;
}

/** numpy's nanmean of numbers: the mean of those that are not NaN (NaN when none is). */
function nanMean(values: readonly number[]): number {
  let sum = 0;
  let count = 0;
  for (const value of values) {
    if (Number.isNaN(value)) continue;
    sum += value;
    count++;
  }
  return count === 0 ? NaN : sum / count;
}

/** The pipeline's softmax: exp(logits - max) / sum, in float64. */
function softmax(logits: ArrayLike<number>): Float64Array {
  const scores = new Float64Array(logits.length);
  const max = maxOf(logits);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    scores[i] = Math.exp(logits[i] - max);
    sum += scores[i];
  }
  for (let i = 0; i < scores.length; i++) scores[i] /= sum;
  return scores;
}

/** tokenizers' WordPiece decoder (BertTokenizerFast.convert_tokens_to_string), which a group's word is. */
export { decodeWordPieces };

/** The pipeline's get_tag: ('B' | 'I', tag); a label in neither form is its own tag, counted as 'I'. */
function tagOf(label: string): [bi: 'B' | 'I', tag: string] {
  if (label.startsWith('B-')) return ['B', label.slice(2)];
  if (label.startsWith('I-')) return ['I', label.slice(2)];
  return ['I', label];
}

/** Python's label.split('-', 1)[-1]: what follows the first '-', or the whole label. */
function groupNameOf(label: string): string {
  const dash = label.indexOf('-');
  return dash < 0 ? label : label.slice(dash + 1);
}

class WindowDecoder {
  readonly #options: EntityDecoding;
  readonly #prefix: string;
  readonly #cleanup: boolean;

  constructor(options: EntityDecoding) {
    this.#options = options;
    this.#prefix = options.continuingSubwordPrefix ?? '##';
    this.#cleanup = options.decoderCleanup ?? true;
  }

  decode(tokens: readonly string[]): string {
    return decodeWordPieces(tokens, this.#prefix, this.#cleanup);
  }

  label(id: number): string {
    const label = this.#options.labels[id];
    if (label === undefined) throw fieldError(RangeError, 'labels', `a label for logit ${id}`, this.#options.labels);
    return label;
  }

  /** gather_pre_entities: the non-special tokens with their scores, words and subword flags. */
  preEntities(text: string, tokens: readonly ClassifiedToken[]): PreEntity[] {
    const out: PreEntity[] = [];
    for (let index = 0; index < tokens.length; index++) {
      const token = tokens[index];
      if (token.special) continue;
      let word = token.token;
      let isSubword: boolean;
      if (token.id === this.#options.unkId) {
        word = text.slice(token.start, token.end);
        isSubword = false;
      } else {
        isSubword = codePointLength(word, 0, word.length) !== codePointLength(text, token.start, token.end);
      }
      out.push({ word, scores: softmax(token.logits), start: token.start, end: token.end, index, isSubword });
    }
    return out;
  }

  /** aggregate: labelled tokens ('none', 'simple') or words (the rest), grouped unless 'none'. */
  aggregate(preEntities: PreEntity[]): TokenEntity[] {
    const strategy = this.#options.aggregationStrategy;
    if (strategy === 'none' || strategy === 'simple') {
      const entities = preEntities.map((pre): LabelledToken => {
        const best = argmax(pre.scores);
        return { entity: this.label(best), score: pre.scores[best], index: pre.index, word: pre.word, start: pre.start, end: pre.end };
      });
      if (strategy === 'none') return entities as TokenLabel[];
      return this.groupEntities(entities);
    }
    return this.groupEntities(this.aggregateWords(preEntities));
  }

  /** aggregate_words: each token with the subwords after it becomes one entity. */
  aggregateWords(preEntities: PreEntity[]): LabelledToken[] {
    const words: LabelledToken[] = [];
    let group: PreEntity[] = [];
    for (const pre of preEntities) {
      if (group.length > 0 && !pre.isSubword) {
        words.push(this.aggregateWord(group));
        group = [];
      }
      group.push(pre);
    }
    if (group.length > 0) words.push(this.aggregateWord(group));
    return words;
  }

  /** aggregate_word: one word's label and score by first, max or average. */
  aggregateWord(group: PreEntity[]): LabelledToken {
    const word = this.decode(group.map((pre) => pre.word));
    let scores: Float64Array;
    switch (this.#options.aggregationStrategy) {
      case 'first':
        scores = group[0].scores;
        break;
      case 'max': {
        // Python's max(): the first entity whose best score is highest
        let chosen = group[0];
        let chosenMax = maxOf(chosen.scores);
        for (let i = 1; i < group.length; i++) {
          const candidate = maxOf(group[i].scores);
          if (candidate > chosenMax) {
            chosen = group[i];
            chosenMax = candidate;
          }
        }
        scores = chosen.scores;
        break;
      }
      case 'average': {
        // np.nanmean over the tokens, label by label
        scores = new Float64Array(group[0].scores.length);
        for (let label = 0; label < scores.length; label++) scores[label] = nanMean(group.map((pre) => pre.scores[label]));
        break;
      }
      default:
        throw fieldError(RangeError, 'aggregationStrategy', "one of 'first', 'average', 'max'", this.#options.aggregationStrategy);
    }
    const best = argmax(scores);
    return { entity: this.label(best), score: scores[best], word, start: group[0].start, end: group[group.length - 1].end };
  }

  /** group_entities: adjacent entities of one tag, a 'B-' starting a new group. */
  groupEntities(entities: LabelledToken[]): EntityGroup[] {
    const groups: EntityGroup[] = [];
    let group: LabelledToken[] = [];
    for (const entity of entities) {
      if (group.length > 0) {
        const [bi, tag] = tagOf(entity.entity);
        const [, lastTag] = tagOf(group[group.length - 1].entity);
        if (!(tag === lastTag && bi !== 'B')) {
          groups.push(this.groupSubEntities(group));
          group = [];
        }
      }
      group.push(entity);
    }
    if (group.length > 0) groups.push(this.groupSubEntities(group));
    return groups;
  }

  /** group_sub_entities: one group's name (from its first label), mean score and decoded word. */
  groupSubEntities(group: LabelledToken[]): EntityGroup {
    return {
      entity_group: groupNameOf(group[0].entity),
      score: nanMean(group.map((entity) => entity.score)),
      word: this.decode(group.map((entity) => entity.word)),
      start: group[0].start,
      end: group[group.length - 1].end,
    };
  }

  /** The pipeline's filter: neither the entity nor the group name is in ignoreLabels. */
  kept(entity: TokenEntity): boolean {
    const name = 'entity' in entity ? entity.entity : entity.entity_group;
    return !this.#options.ignoreLabels.includes(name);
  }
}

/**
 * aggregate_overlapping_entities: entities of overlapping windows sorted by start (stably); of an entity that starts
 * inside the one kept before it, the longer is kept, on equal length the higher score, else the one kept.
 */
export function aggregateOverlappingEntities<T extends { start: number; end: number; score: number }>(entities: readonly T[]): T[] {
  if (entities.length === 0) return [];
  const sorted = [...entities].sort((a, b) => a.start - b.start);
  const aggregated: T[] = [];
  let previous = sorted[0];
  for (const entity of sorted) {
    if (previous.start <= entity.start && entity.start < previous.end) {
      const length = entity.end - entity.start;
      const previousLength = previous.end - previous.start;
      if (length > previousLength || (length === previousLength && entity.score > previous.score)) previous = entity;
    } else {
      aggregated.push(previous);
      previous = entity;
    }
  }
  aggregated.push(previous);
  return aggregated;
}

/**
 * The pipeline's answer for one text: `windows` are the token windows the model ran over it (one, or several
 * overlapping ones with a stride), each with [CLS] and [SEP] as special tokens and offsets into `text`.
 * For pre-tokenized input (is_split_into_words), `text` is the words joined by ' ' and the offsets index it.
 */
export function decodeEntities(text: string, windows: readonly (readonly ClassifiedToken[])[], options: EntityDecoding): TokenEntity[] {
  const decoder = new WindowDecoder(options);
  const entities: TokenEntity[] = [];
  for (const window of windows) {
    for (const entity of decoder.aggregate(decoder.preEntities(text, window))) {
      if (decoder.kept(entity)) entities.push(entity);
    }
  }
  return windows.length > 1 ? aggregateOverlappingEntities(entities) : entities;
}

/** A content token of a window (no [CLS] / [SEP]), for decodeWindows. */
export interface WindowToken {
  /** the vocabulary's string for the token ('##' kept) */
  token: string;
  id: number;
  /** [start, end) in UTF-16 code units of the text */
  start: number;
  end: number;
}

/** A window by its content tokens: token i's logits, and the window position of the first ([CLS] before it: 1). */
export interface ContentWindow {
  tokens: readonly WindowToken[];
  logits: (i: number) => ArrayLike<number>;
  firstIndex: number;
}

export interface WindowDecoding {
  labels: readonly string[];
  strategy: AggregationStrategy;
  ignoreLabels: readonly string[];
  /** the unknown token's id (default: the id of any token whose string is unkToken) */
  unkId?: number;
  /** the unknown token's string, used when unkId is not given (default '[UNK]') */
  unkToken?: string;
  continuingSubwordPrefix?: string;
  decoderCleanup?: boolean;
}

/**
 * decodeEntities for windows given by their content tokens (the special tokens around them are only counted, for
 * `index`). Pass the tokenizer's unkId: without it a token is taken for [UNK] by its string.
 */
export function decodeWindows(text: string, windows: readonly ContentWindow[], options: WindowDecoding): TokenEntity[] {
  const unkToken = options.unkToken ?? '[UNK]';
  const unkId = options.unkId ?? -1;
  const special: ClassifiedToken = { token: '', id: -1, start: 0, end: 0, special: true, logits: [] };
  const classified = windows.map((window) => {
    const tokens: ClassifiedToken[] = Array.from({ length: window.firstIndex }, () => special);
    window.tokens.forEach((token, i) => {
      // an [UNK] known only by its string gets the id decodeEntities looks for
      const id = options.unkId === undefined && token.token === unkToken ? unkId : token.id;
      tokens.push({ token: token.token, id, start: token.start, end: token.end, special: false, logits: window.logits(i) });
    });
    return tokens;
  });
  return decodeEntities(text, classified, {
    labels: options.labels,
    aggregationStrategy: options.strategy,
    ignoreLabels: options.ignoreLabels,
    unkId,
    continuingSubwordPrefix: options.continuingSubwordPrefix,
    decoderCleanup: options.decoderCleanup,
  });
}

/** One window: content tokens [start, end) of the text's tokens (without [CLS] and [SEP]). */
export interface TokenSpan {
  start: number;
  end: number;
}

/**
 * The windows a text of `contentLength` tokens is labelled in, [CLS] and [SEP] left for the caller to add around
 * each: without a stride, the first maxSeqLen - 2 tokens (truncation); with one, tokenizers' truncate with stride
 * (the fast tokenizer's return_overflowing_tokens, as tokenizers 0.22 makes them over the whole text): chunks of
 * maxSeqLen - 2 tokens, each starting maxSeqLen - 2 - stride after the one before, up to the first that reaches the
 * end. A text that fits is one window. tokenizers requires stride < maxSeqLen - 2 once a text needs windows; this
 * requires it always, so a stride is refused before any text is looked at.
 */
export function planWindows(contentLength: number, maxSeqLen: number, stride?: number): TokenSpan[] {
  checkInteger('contentLength', contentLength, 0);
  checkInteger('maxSeqLen', maxSeqLen, 2);
  const room = maxSeqLen - 2;
  if (stride === undefined) return [{ start: 0, end: Math.min(contentLength, room) }];
  checkStride(stride, maxSeqLen);
  if (contentLength <= room) return [{ start: 0, end: contentLength }];
  const step = room - stride;
  const spans: TokenSpan[] = [];
  for (let start = 0; ; start += step) {
    const end = Math.min(start + room, contentLength);
    spans.push({ start, end });
    if (end === contentLength) return spans;
  }
}

/** A stride windows can step by: a non-negative integer below maxSeqLen - 2 (the tokens a window holds). */
export function checkStride(stride: unknown, maxSeqLen: number): number {
  const room = maxSeqLen - 2;
  const expected = room >= 1 ? `integer from 0 to ${room - 1} (below maxSeqLen - 2, the tokens of a window)` : 'no stride (maxSeqLen leaves no room for tokens)';
  if (typeof stride !== 'number' || !Number.isInteger(stride)) throw fieldError(TypeError, 'stride', expected, stride);
  if (stride < 0 || stride >= room) throw fieldError(RangeError, 'stride', expected, stride);
  return stride;
}
