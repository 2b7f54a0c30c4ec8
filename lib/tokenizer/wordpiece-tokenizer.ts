import { AddedTokenSplitter } from './added-tokens.js';
import { isAsciiPunctuation } from './char-classes.js';
import { type TokenizerConfig, resolveTokenizerConfig } from './config.js';
import { cleanUpTokenization, decodeWordPieces } from './decoder.js';
import { BertNormalizer } from './normalizer.js';
import { type OffsetEncodingParts, type SequenceWithOffsets, encodeSequenceWithOffsets } from './offset-encoding.js';
import { forEachPreToken } from './pre-tokenizer.js';
import { longestFirstLengths } from './truncation.js';
import {
  assertBoolean,
  assertNonNegativeInteger,
  assertPlainObject,
  assertPositiveInteger,
  assertString,
  assertStringArray,
  fieldError,
} from '../validation.js';
import { type TokenizerSpec, loadTokenizerSpec, specialTokensOf, vocabFromInput } from './vocab-loading.js';
import { WordPieceModel } from './wordpiece.js';

export interface Encoding {
  ids: number[];
  tokens: string[];
  /** 0 for [CLS], the first sequence and its [SEP]; 1 for the second sequence and the last [SEP]. */
  typeIds: number[];
}

/**
 * An Encoding with what each token is made of, as HF tokenizers' offsets, word_ids and sequence_ids.
 * The special tokens ([CLS], [SEP]) have offsets [0, 0] and null word and sequence ids.
 */
export interface EncodingWithOffsets extends Encoding {
  /**
   * Each token's [start, end) in UTF-16 code units (what String.prototype.slice takes) of the text it
   * came from, following the normalizer: a lowercased, accent-stripped or expanded character
   * counts as its source character, a removed one (a control, a combining accent) is in no token
   * (though it can lie inside one's range), and an [UNK] covers its whole word. For 'A ||| B'
   * written in one string the second sequence's offsets are into that whole string; with an
   * explicit `pair` they are into `pair` (as in HF tokenizers), so check sequenceIds to know which.
   */
  offsets: Array<[number, number]>;
  /** The index of each token's word within its sequence (whitespace-separated run, punctuation character or added token found in the text). */
  wordIds: Array<number | null>;
  /** Which sequence each token belongs to: 0 for the text, 1 for the pair. */
  sequenceIds: Array<0 | 1 | null>;
}

export interface DecodeOptions {
  /** Leave out the special tokens: [CLS], [SEP], [PAD], [MASK], [UNK] and any other added token marked special (default false). */
  skipSpecialTokens?: boolean;
  /** Apply transformers' clean_up_tokenization (" ." → ".", " n't" → "n't", …); default: the config's cleanUpTokenizationSpaces. */
  cleanUpTokenizationSpaces?: boolean;
}

export interface EncodeOptions {
  /** Truncate (HF longest_first) so the result, special tokens included, has at most this many tokens. */
  maxLength?: number;
  /** Read 'A ||| B' as a pair when no explicit pair is given (default true). */
  splitPairs?: boolean;
  /** Add [CLS] and [SEP] (default true); without them a pair is its two sequences side by side, type ids 0 then 1, as HF's add_special_tokens=False. */
  addSpecialTokens?: boolean;
}

/** bert-as-service's way of writing a sentence pair in one string. */
export const PAIR_SEPARATOR = ' ||| ';

// What the ASCII fast path does with each ASCII character, after HF's BertNormalizer definitions.
const ASCII_WORD = 0;
const ASCII_UPPER = 1;
const ASCII_WHITESPACE = 2;
const ASCII_PUNCTUATION = 3;
const ASCII_REMOVED = 4;

const ASCII_KINDS = (() => {
  const kinds = new Uint8Array(128);
  for (let c = 0; c < 128; c++) {
    if (c === 9 || c === 10 || c === 13 || c === 32) kinds[c] = ASCII_WHITESPACE;
    else if (c < 32 || c === 127) kinds[c] = ASCII_REMOVED;
    else if (isAsciiPunctuation(c)) kinds[c] = ASCII_PUNCTUATION;
    else if (c >= 65 && c <= 90) kinds[c] = ASCII_UPPER;
    else kinds[c] = ASCII_WORD;
  }
  return kinds;
})();

interface OptionsSeen {
  maxLength: number | undefined;
  splitPairs: boolean;
  addSpecialTokens: boolean;
}

function readDecodeOptions(options: unknown, cleanUpByDefault: boolean): Required<DecodeOptions> {
  if (options === undefined) return { skipSpecialTokens: false, cleanUpTokenizationSpaces: cleanUpByDefault };
  assertPlainObject('options', options);
  const { skipSpecialTokens, cleanUpTokenizationSpaces } = options as DecodeOptions;
  if (skipSpecialTokens !== undefined) assertBoolean('skipSpecialTokens', skipSpecialTokens);
  if (cleanUpTokenizationSpaces !== undefined) assertBoolean('cleanUpTokenizationSpaces', cleanUpTokenizationSpaces);
  return { skipSpecialTokens: skipSpecialTokens ?? false, cleanUpTokenizationSpaces: cleanUpTokenizationSpaces ?? cleanUpByDefault };
}

function readOptions(options: unknown, allowSplitPairs: boolean): OptionsSeen {
  if (options === undefined) return { maxLength: undefined, splitPairs: true, addSpecialTokens: true };
  assertPlainObject('options', options);
  const { maxLength, splitPairs, addSpecialTokens } = options as EncodeOptions;
  if (maxLength !== undefined) assertPositiveInteger('maxLength', maxLength);
  if (allowSplitPairs && splitPairs !== undefined) assertBoolean('splitPairs', splitPairs);
  if (addSpecialTokens !== undefined) assertBoolean('addSpecialTokens', addSpecialTokens);
  return { maxLength, splitPairs: splitPairs ?? true, addSpecialTokens: addSpecialTokens ?? true };
}

type SequencePositions = Pick<SequenceWithOffsets, 'offsets' | 'wordIds'>;

/** The offsets, word ids and sequence ids of [CLS] first [SEP] (second [SEP]). */
function offsetFields(
  first: SequencePositions,
  second: SequencePositions | undefined,
  addSpecialTokens = true,
): Pick<EncodingWithOffsets, 'offsets' | 'wordIds' | 'sequenceIds'> {
  const offsets: Array<[number, number]> = addSpecialTokens ? [[0, 0]] : [];
  const wordIds: Array<number | null> = addSpecialTokens ? [null] : [];
  const sequenceIds: Array<0 | 1 | null> = addSpecialTokens ? [null] : [];
  const addSequence = (sequence: SequencePositions, sequenceId: 0 | 1) => {
    for (let i = 0; i < sequence.offsets.length; i++) {
      offsets.push(sequence.offsets[i]);
      wordIds.push(sequence.wordIds[i]);
      sequenceIds.push(sequenceId);
    }
    if (!addSpecialTokens) return;
    offsets.push([0, 0]);
    wordIds.push(null);
    sequenceIds.push(null);
  };
  addSequence(first, 0);
  if (second !== undefined) addSequence(second, 1);
  return { offsets, wordIds, sequenceIds };
}

/**
 * BERT's WordPiece tokenizer, giving the ids of Hugging Face's tokenizers (BertNormalizer,
 * BertPreTokenizer, WordPiece, BERT post-processing, longest_first truncation).
 */
export class WordPieceTokenizer {
  readonly config: TokenizerConfig;
  /** One more than the largest id, i.e. the number of rows an embedding table needs. */
  readonly vocabSize: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  readonly unkId: number;

  /** Every token with an id: the model's vocabulary plus the added (special) tokens. */
  private readonly idsByToken: Map<string, number>;
  private readonly tokensById: string[];
  private readonly normalizer: BertNormalizer;
  private readonly splitter: AddedTokenSplitter;
  private readonly wordPiece: WordPieceModel;
  private readonly lowercase: boolean;
  private readonly asciiPunctuationIds = new Int32Array(128);
  /** What encodeWithOffsets runs through (the same parts as encode, by another path). */
  private readonly offsetParts: OffsetEncodingParts;
  /** Contents of the added tokens marked special, which decode can leave out. */
  private readonly specialTokens: Set<string>;

  private constructor(spec: TokenizerSpec) {
    const { vocab, addedTokens, config } = spec;
    this.config = Object.freeze({ ...config });
    this.idsByToken = new Map(vocab);
    for (const token of addedTokens) this.idsByToken.set(token.content, token.id);
    this.tokensById = [];
    for (const [token, id] of this.idsByToken) this.tokensById[id] = token;
    this.vocabSize = this.tokensById.length;

    const requiredId = (field: keyof TokenizerConfig): number => {
      const token = config[field] as string;
      const id = this.idsByToken.get(token);
      if (id === undefined) {
        throw fieldError(RangeError, `config.${field}`, 'a token of the vocabulary', token);
      }
      return id;
    };
    this.unkId = requiredId('unkToken');
    this.clsId = requiredId('clsToken');
    this.sepId = requiredId('sepToken');
    this.padId = requiredId('padToken');

    this.normalizer = new BertNormalizer({
      lowercase: config.doLowerCase,
      stripAccents: config.stripAccents,
      tokenizeChineseChars: config.tokenizeChineseChars,
    });
    this.lowercase = config.doLowerCase;
    this.splitter = new AddedTokenSplitter(addedTokens);
    this.wordPiece = new WordPieceModel(vocab, {
      unkId: this.unkId,
      continuingSubwordPrefix: config.continuingSubwordPrefix,
      maxInputCharsPerWord: config.maxInputCharsPerWord,
    });
    this.offsetParts = { splitter: this.splitter, normalizer: this.normalizer, wordPiece: this.wordPiece };
    this.specialTokens = new Set(addedTokens.filter((token) => token.special).map((token) => token.content));
    for (let c = 0; c < 128; c++) {
      if (ASCII_KINDS[c] !== ASCII_PUNCTUATION) continue;
      const ids: number[] = [];
      this.wordPiece.pushPieceIds(String.fromCharCode(c), ids);
      this.asciiPunctuationIds[c] = ids[0];
    }
  }

  /** Reads tokenizer.json when the folder has one, else vocab.txt, each with tokenizer_config.json if present. */
  static fromModelDir(dir: string, overrides?: Partial<Pick<TokenizerConfig, 'doLowerCase' | 'stripAccents'>>): WordPieceTokenizer {
    assertString('dir', dir);
    const spec = loadTokenizerSpec(dir);
    return new WordPieceTokenizer(overrides ? { ...spec, config: resolveTokenizerConfig({ ...spec.config, ...overrides }) } : spec);
  }

  /** A tokenizer over a vocabulary (array index = id, or token → id); the special tokens must be in it. */
  static fromVocab(vocab: string[] | Map<string, number>, config?: Partial<TokenizerConfig>): WordPieceTokenizer {
    const vocabMap = vocabFromInput(vocab);
    const resolved = resolveTokenizerConfig(config);
    return new WordPieceTokenizer({ vocab: vocabMap, addedTokens: specialTokensOf(resolved, vocabMap), config: resolved });
  }

  tokenToId(token: string): number | undefined {
    assertString('token', token);
    return this.idsByToken.get(token);
  }

  idToToken(id: number): string | undefined {
    assertNonNegativeInteger('id', id);
    return this.tokensById[id];
  }

  /** Encodes one text, or a pair: an explicit `pair`, or 'A ||| B' in `text` unless options.splitPairs is false. */
  encode(text: string, pair?: string, options?: EncodeOptions): Encoding {
    assertString('text', text);
    if (pair !== undefined && pair !== null) assertString('pair', pair);
    const { maxLength, splitPairs, addSpecialTokens } = readOptions(options, true);
    let first = text;
    let second = pair ?? undefined;
    if (second === undefined && splitPairs) {
      const at = text.indexOf(PAIR_SEPARATOR);
      if (at >= 0) {
        first = text.slice(0, at);
        second = text.slice(at + PAIR_SEPARATOR.length);
      }
    }
    // HF tokenizers stops reading each sequence of a truncated pair at the first word that reaches
    // maxLength tokens; longest_first then compares these read lengths, so ours stop there too.
    const readLimit = second !== undefined && maxLength !== undefined ? maxLength : Number.POSITIVE_INFINITY;
    const firstIds: number[] = [];
    this.pushTextIds(first, firstIds, readLimit);
    let secondIds: number[] | undefined;
    if (second !== undefined) {
      secondIds = [];
      this.pushTextIds(second, secondIds, readLimit);
    }
    return this.assemble(firstIds, secondIds, maxLength, addSpecialTokens);
  }

  /**
   * Encodes text that is already split into tokens (bert-as-service's is_tokenized): each token is
   * looked up as it is, and one the vocabulary lacks becomes the unknown token.
   */
  encodeTokenized(tokens: string[], pair?: string[], options?: Omit<EncodeOptions, 'splitPairs'>): Encoding {
    assertStringArray('tokens', tokens);
    if (pair !== undefined && pair !== null) assertStringArray('pair', pair);
    const { maxLength, addSpecialTokens } = readOptions(options, false);
    const lookUp = (token: string): number => this.idsByToken.get(token) ?? this.unkId;
    // Each given token is one word of one piece, so reading stops after maxLength of them (see encode).
    const read = (sequence: string[]): string[] =>
      pair && maxLength !== undefined && sequence.length > maxLength ? sequence.slice(0, maxLength) : sequence;
    return this.assemble(read(tokens).map(lookUp), pair ? read(pair).map(lookUp) : undefined, maxLength, addSpecialTokens);
  }

  /**
   * `encode`, also giving each token's offsets, word and sequence (see EncodingWithOffsets); ids,
   * tokens, type ids and truncation are those of `encode`. A separate, slower path that keeps the
   * normalizer's alignment, so that `encode` pays nothing for it.
   */
  encodeWithOffsets(text: string, pair?: string, options?: EncodeOptions): EncodingWithOffsets {
    assertString('text', text);
    if (pair !== undefined && pair !== null) assertString('pair', pair);
    const { maxLength, splitPairs, addSpecialTokens } = readOptions(options, true);
    let first = text;
    let second = pair ?? undefined;
    let secondShift = 0;
    if (second === undefined && splitPairs) {
      const at = text.indexOf(PAIR_SEPARATOR);
      if (at >= 0) {
        first = text.slice(0, at);
        secondShift = at + PAIR_SEPARATOR.length;
        second = text.slice(secondShift);
      }
    }
    const readLimit = second !== undefined && maxLength !== undefined ? maxLength : Number.POSITIVE_INFINITY; // see encode
    const firstSequence = encodeSequenceWithOffsets(this.offsetParts, first, readLimit, 0);
    const secondSequence = second === undefined ? undefined : encodeSequenceWithOffsets(this.offsetParts, second, readLimit, secondShift);
    return this.assembleWithOffsets(firstSequence, secondSequence, maxLength, addSpecialTokens);
  }

  /**
   * `encodeTokenized` with EncodingWithOffsets' extra fields: each given token is one word (its
   * word id is its index in its list), and as the tokens are not a text, every offset is [0, 0].
   */
  encodeTokenizedWithOffsets(tokens: string[], pair?: string[], options?: Omit<EncodeOptions, 'splitPairs'>): EncodingWithOffsets {
    const encoding = this.encodeTokenized(tokens, pair, options);
    const addSpecialTokens = options?.addSpecialTokens ?? true;
    const positionsOf = (kept: number): SequencePositions => ({
      offsets: Array.from({ length: kept }, (): [number, number] => [0, 0]),
      wordIds: Array.from({ length: kept }, (_, i) => i),
    });
    // Type id 0 marks [CLS], the first sequence and its [SEP]; 1 the second and the last [SEP].
    const typeZeroCount = encoding.typeIds.filter((typeId) => typeId === 0).length;
    const specialCount = addSpecialTokens ? 1 : 0;
    const second = pair ? positionsOf(encoding.ids.length - typeZeroCount - specialCount) : undefined;
    return { ...encoding, ...offsetFields(positionsOf(typeZeroCount - 2 * specialCount), second, addSpecialTokens) };
  }

  /** Encodes each input: a string (which may hold 'A ||| B') or an explicit [A, B] pair. */
  encodeBatch(inputs: Array<string | [string, string]>, options?: EncodeOptions): Encoding[] {
    if (!Array.isArray(inputs)) throw fieldError(TypeError, 'inputs', 'array of strings or [string, string] pairs', inputs);
    readOptions(options, true);
    return inputs.map((input, i) => {
      if (typeof input === 'string') return this.encode(input, undefined, options);
      if (Array.isArray(input) && input.length === 2 && typeof input[0] === 'string' && typeof input[1] === 'string') {
        return this.encode(input[0], input[1], options);
      }
      throw fieldError(TypeError, `inputs[${i}]`, 'string or [string, string] pair', input);
    });
  }

  /**
   * Text from ids, as HF decodes BERT's: tokens joined by spaces, continuation pieces ('##…') glued
   * to the one before, the WordPiece decoder's clean-up if the tokenizer's decoder has it, then
   * (by default, per the config) transformers' clean_up_tokenization. Ids that name no token are
   * left out, as HF does.
   */
  decode(ids: number[], options?: DecodeOptions): string {
    if (!Array.isArray(ids)) throw fieldError(TypeError, 'ids', 'array of non-negative integers', ids);
    for (let i = 0; i < ids.length; i++) assertNonNegativeInteger(`ids[${i}]`, ids[i]);
    const { skipSpecialTokens, cleanUpTokenizationSpaces } = readDecodeOptions(options, this.config.cleanUpTokenizationSpaces);
    const tokens: string[] = [];
    for (const id of ids) {
      const token = this.tokensById[id];
      if (token === undefined || (skipSpecialTokens && this.specialTokens.has(token))) continue;
      tokens.push(token);
    }
    const text = decodeWordPieces(tokens, this.config.continuingSubwordPrefix, this.config.decoderCleanup);
    return cleanUpTokenizationSpaces ? cleanUpTokenization(text) : text;
  }

  /** The word pieces of a text with no special tokens and no truncation. */
  tokenize(text: string): string[] {
    assertString('text', text);
    const ids: number[] = [];
    this.pushTextIds(text, ids, Number.POSITIVE_INFINITY);
    return ids.map((id) => this.tokensById[id]);
  }

  private assemble(firstIds: number[], secondIds: number[] | undefined, maxLength: number | undefined, addSpecialTokens = true): Encoding {
    if (maxLength !== undefined) {
      const specialCount = addSpecialTokens ? (secondIds === undefined ? 2 : 3) : 0;
      if (maxLength < specialCount) {
        const what = secondIds === undefined ? '[CLS] and [SEP]' : '[CLS] and two [SEP] of a pair';
        throw fieldError(RangeError, 'maxLength', `integer >= ${specialCount} (room for ${what})`, maxLength);
      }
      if (secondIds === undefined) {
        if (firstIds.length > maxLength - specialCount) firstIds.length = maxLength - specialCount;
      } else {
        const [firstKept, secondKept] = longestFirstLengths(firstIds.length, secondIds.length, maxLength - specialCount);
        if (firstKept < firstIds.length) firstIds.length = firstKept;
        if (secondKept < secondIds.length) secondIds.length = secondKept;
      }
    }
    // Built by push so the arrays stay packed (no holes), which keeps later reads fast.
    const ids: number[] = [];
    const typeIds: number[] = [];
    if (addSpecialTokens) {
      ids.push(this.clsId);
      typeIds.push(0);
    }
    for (let i = 0; i < firstIds.length; i++) {
      ids.push(firstIds[i]);
      typeIds.push(0);
    }
    if (addSpecialTokens) {
      ids.push(this.sepId);
      typeIds.push(0);
    }
    if (secondIds !== undefined) {
      for (let i = 0; i < secondIds.length; i++) {
        ids.push(secondIds[i]);
        typeIds.push(1);
      }
      if (addSpecialTokens) {
        ids.push(this.sepId);
        typeIds.push(1);
      }
    }
    const tokens: string[] = [];
    for (let i = 0; i < ids.length; i++) tokens.push(this.tokensById[ids[i]]);
    return { ids, tokens, typeIds };
  }

  /** `assemble`, carrying each sequence's offsets and word ids through the same truncation. */
  private assembleWithOffsets(
    first: SequenceWithOffsets,
    second: SequenceWithOffsets | undefined,
    maxLength: number | undefined,
    addSpecialTokens: boolean,
  ): EncodingWithOffsets {
    const encoding = this.assemble(first.ids, second?.ids, maxLength, addSpecialTokens);
    // assemble truncates the id arrays in place; the offsets and word ids follow them.
    for (const sequence of second === undefined ? [first] : [first, second]) {
      sequence.offsets.length = sequence.ids.length;
      sequence.wordIds.length = sequence.ids.length;
    }
    return { ...encoding, ...offsetFields(first, second, addSpecialTokens) };
  }

  /**
   * Appends the ids of one sequence: added tokens matched in the raw text, the rest word-pieced.
   * Stops at the end of the first word that brings `out` to `readLimit` ids. As in HF tokenizers,
   * only words are checked against the limit, not added tokens: "[MASK]" can take a sequence past it.
   */
  private pushTextIds(text: string, out: number[], readLimit: number): void {
    const sections = this.splitter.split(text);
    if (sections === null) {
      this.pushPlainTextIds(text, out, readLimit);
      return;
    }
    for (const section of sections) {
      if ('tokenId' in section) out.push(section.tokenId);
      else if (this.pushPlainTextIds(section.text, out, readLimit)) return;
    }
  }

  /**
   * Fast path for ASCII: the normalizer can only drop controls and lowercase there, so words are
   * cut straight from the raw text. At the first non-ASCII character (or a control inside a word)
   * the rest, from the start of the current word, goes through the full Unicode path; the text
   * before that point ended at a separator, so handling the two parts apart changes nothing.
   * Returns true when it stopped at the read limit.
   */
  private pushPlainTextIds(text: string, out: number[], readLimit: number): boolean {
    const lowercase = this.lowercase;
    let wordStart = -1;
    let wordHasUpper = false;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 128) {
        return this.pushUnicodeTextIds(wordStart >= 0 ? text.slice(wordStart) : text.slice(i), out, readLimit);
      }
      const kind = ASCII_KINDS[c];
      if (kind === ASCII_WORD) {
        if (wordStart < 0) wordStart = i;
        continue;
      }
      if (kind === ASCII_UPPER) {
        if (wordStart < 0) wordStart = i;
        wordHasUpper = true;
        continue;
      }
      if (kind === ASCII_REMOVED) {
        if (wordStart >= 0) return this.pushUnicodeTextIds(text.slice(wordStart), out, readLimit);
        continue;
      }
      if (wordStart >= 0) {
        const word = text.slice(wordStart, i);
        this.wordPiece.pushPieceIds(lowercase && wordHasUpper ? word.toLowerCase() : word, out);
        if (out.length >= readLimit) return true;
        wordStart = -1;
        wordHasUpper = false;
      }
      if (kind === ASCII_PUNCTUATION) {
        out.push(this.asciiPunctuationIds[c]);
        if (out.length >= readLimit) return true;
      }
    }
    if (wordStart < 0) return false; // only a word can stop reading, never the added token before it
    const word = text.slice(wordStart);
    this.wordPiece.pushPieceIds(lowercase && wordHasUpper ? word.toLowerCase() : word, out);
    return out.length >= readLimit;
  }

  /** The full path: HF's normalizer, then pre-tokenizer and WordPiece. Returns true when it stopped at the read limit. */
  private pushUnicodeTextIds(text: string, out: number[], readLimit: number): boolean {
    const normalized = this.normalizer.normalize(text);
    let stopped = false;
    forEachPreToken(normalized, (word) => {
      this.wordPiece.pushPieceIds(word, out);
      stopped = out.length >= readLimit;
      return stopped;
    });
    return stopped;
  }
}
