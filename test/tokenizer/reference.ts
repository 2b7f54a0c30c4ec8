/**
 * The references our tokenizer is compared with, and the shared data they run on.
 *
 * - HF tokenizers (Rust, the `tokenizers` npm package): what AutoTokenizer's fast tokenizers and
 *   tokenizer.json files run, so the authority on every id, pair and truncation.
 * - transformers.js (@huggingface/transformers): a second, independent implementation. It is
 *   compared on everything it implements as HF does; see KNOWN_TRANSFORMERS_JS_DEVIATIONS.
 */
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

import { AutoTokenizer, env } from '@huggingface/transformers';

import { CharClass, charClassOf } from '../../lib/tokenizer/char-classes.js';
import { HF_STRIP_ACCENTS_OVERRIDES } from '../../lib/tokenizer/hf-unicode-tables.js';

const require = createRequire(import.meta.url);
const hfTokenizers = require('tokenizers') as typeof import('tokenizers');

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sharedDir = process.env.BERT_EMBED_SHARED ?? path.resolve(repoRoot, '..', 'shared');
export const modelsDir = path.join(sharedDir, 'models');
export const stsDir = path.join(sharedDir, 'data', 'stsbenchmark');

export interface StsPair {
  first: string;
  second: string;
}

/** STS-B as its readme says: tab-separated, no quote processing, sentences in columns 5 and 6. */
export function readStsBenchmark(): StsPair[] {
  const pairs: StsPair[] = [];
  for (const split of ['train', 'dev', 'test']) {
    const text = readFileSync(path.join(stsDir, `sts-${split}.csv`), 'utf8');
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      const fields = line.split('\t');
      if (fields.length < 7) throw new Error(`sts-${split}.csv: a row with ${fields.length} fields: ${line}`);
      pairs.push({ first: fields[5], second: fields[6] });
    }
  }
  return pairs;
}

export interface ReferenceEncoding {
  ids: number[];
  typeIds: number[];
}

export type HfTokenizer = InstanceType<typeof hfTokenizers.Tokenizer>;

/** HF tokenizers (Rust) from a tokenizer.json, with the file's own truncation and padding switched off. */
export function loadHfTokenizer(tokenizerJsonPath: string): HfTokenizer {
  const tokenizer = hfTokenizers.Tokenizer.fromFile(tokenizerJsonPath);
  tokenizer.disableTruncation();
  tokenizer.disablePadding();
  return tokenizer;
}

export type HfInput = string | [string, string];

/** Encodes with HF tokenizers, optionally truncating to maxLength (longest_first). */
export async function hfEncodeAll(tokenizer: HfTokenizer, inputs: HfInput[], maxLength?: number): Promise<ReferenceEncoding[]> {
  if (maxLength === undefined) tokenizer.disableTruncation();
  else tokenizer.setTruncation(maxLength);
  const results: ReferenceEncoding[] = [];
  const chunkSize = 1024;
  for (let start = 0; start < inputs.length; start += chunkSize) {
    const chunk = inputs.slice(start, start + chunkSize);
    // The binding's encodeBatch takes single sequences only, so pairs go through encode.
    const encodings = chunk.every((input) => typeof input === 'string')
      ? await tokenizer.encodeBatch(chunk as string[])
      : await Promise.all(chunk.map((input) => (typeof input === 'string' ? tokenizer.encode(input) : tokenizer.encode(input[0], input[1]))));
    for (const encoding of encodings) results.push({ ids: encoding.getIds(), typeIds: encoding.getTypeIds() });
  }
  tokenizer.disableTruncation();
  return results;
}

export interface ReferenceEncodingWithOffsets extends ReferenceEncoding {
  offsets: Array<[number, number]>;
  wordIds: Array<number | null>;
  sequenceIds: Array<number | null>;
}

/**
 * For each code point boundary of `text`, its UTF-16 offset. The Node binding of HF tokenizers
 * encodes with char offsets (encode_char_offsets, as the Python binding), i.e. Unicode scalar
 * values; a lone surrogate reaches Rust as one U+FFFD, so it counts as one here too.
 */
export function utf16OffsetsOfCodePoints(text: string): number[] {
  const offsets = [0];
  let unit = 0;
  for (const character of text) {
    unit += character.length;
    offsets.push(unit);
  }
  return offsets;
}

/**
 * HF tokenizers' encodings with offsets in UTF-16 units, optionally truncated. A pair's second
 * sequence has offsets into its own text, plus `secondShift` of that input (for comparing with
 * 'A ||| B' written in one string).
 */
export async function hfEncodeWithOffsetsAll(
  tokenizer: HfTokenizer,
  inputs: HfInput[],
  options: { maxLength?: number; secondShift?: (input: [string, string]) => number } = {},
): Promise<ReferenceEncodingWithOffsets[]> {
  if (options.maxLength === undefined) tokenizer.disableTruncation();
  else tokenizer.setTruncation(options.maxLength);
  const results: ReferenceEncodingWithOffsets[] = [];
  const chunkSize = 1024;
  for (let start = 0; start < inputs.length; start += chunkSize) {
    const chunk = inputs.slice(start, start + chunkSize);
    const encodings = await Promise.all(chunk.map((input) => (typeof input === 'string' ? tokenizer.encode(input) : tokenizer.encode(input[0], input[1]))));
    encodings.forEach((encoding, k) => {
      const input = chunk[k];
      const texts = typeof input === 'string' ? [input] : input;
      const shifts = typeof input === 'string' ? [0] : [0, options.secondShift?.(input) ?? 0];
      const unitMaps = texts.map(utf16OffsetsOfCodePoints);
      const sequenceIds = encoding.getSequenceIds().map((id) => id ?? null);
      const offsets = encoding.getOffsets().map(([first, last], i): [number, number] => {
        const sequence = sequenceIds[i];
        if (sequence === null) return [first, last];
        return [unitMaps[sequence][first] + shifts[sequence], unitMaps[sequence][last] + shifts[sequence]];
      });
      results.push({
        ids: encoding.getIds(),
        typeIds: encoding.getTypeIds(),
        offsets,
        wordIds: encoding.getWordIds().map((id) => id ?? null),
        sequenceIds,
      });
    });
  }
  tokenizer.disableTruncation();
  return results;
}

type TransformersTokenizer = Awaited<ReturnType<typeof AutoTokenizer.from_pretrained>>;

/** transformers.js's tokenizer for a local model folder (tokenizer.json + tokenizer_config.json), offline. */
export async function loadTransformersTokenizer(modelDir: string): Promise<TransformersTokenizer> {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = path.dirname(modelDir) + path.sep;
  return AutoTokenizer.from_pretrained(path.basename(modelDir));
}

/** transformers.js's ids and token type ids, without truncation (its truncation is not HF's: see the tests). */
export function transformersEncode(tokenizer: TransformersTokenizer, text: string, pair?: string): ReferenceEncoding {
  const encoded = tokenizer(text, {
    text_pair: pair ?? null,
    return_tensor: false,
    return_token_type_ids: true,
  }) as unknown as { input_ids: number[]; token_type_ids: number[] };
  return { ids: encoded.input_ids, typeIds: encoded.token_type_ids };
}

/**
 * bert-base-chinese ships only vocab.txt here. This writes the tokenizer.json HF's converter makes
 * from it (BertNormalizer without lowercasing, as its tokenizer_config's do_lower_case false says;
 * BertPreTokenizer; WordPiece; TemplateProcessing), plus that tokenizer_config.json, in a temp folder.
 */
export function buildChineseModelDir(): string {
  const vocabLines = readFileSync(path.join(modelsDir, 'bert-base-chinese', 'vocab.txt'), 'utf8').split('\n');
  if (vocabLines[vocabLines.length - 1] === '') vocabLines.pop();
  const vocab: Record<string, number> = {};
  vocabLines.forEach((token, id) => {
    vocab[token] = id; // a later duplicate line wins, as in HF's vocab loading
  });
  const special = (content: string) => ({
    id: vocab[content],
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: false },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [vocab['[CLS]']], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [vocab['[SEP]']], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'bert-embed-tokenizer-')), 'bert-base-chinese');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson));
  writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: false, tokenize_chinese_chars: true, model_max_length: 512 }));
  return dir;
}

/** A model folder holding only a copy of vocab.txt (and optionally tokenizer_config.json), in a temp folder. */
export function vocabOnlyModelDir(sourceModel: string, tokenizerConfig?: object): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bert-embed-vocab-'));
  writeFileSync(path.join(dir, 'vocab.txt'), readFileSync(path.join(modelsDir, sourceModel, 'vocab.txt')));
  if (tokenizerConfig !== undefined) writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
  return dir;
}

export interface Mismatch {
  input: unknown;
  expected: ReferenceEncoding;
  actual: ReferenceEncoding;
}

/** Compares ids and type ids; returns the mismatches (the first few are enough to debug). */
export function compareEncodings(inputs: unknown[], expected: ReferenceEncoding[], actual: ReferenceEncoding[]): Mismatch[] {
  const mismatches: Mismatch[] = [];
  for (let i = 0; i < inputs.length; i++) {
    const e = expected[i];
    const a = actual[i];
    const same =
      e.ids.length === a.ids.length &&
      e.ids.every((id, k) => id === a.ids[k]) &&
      e.typeIds.length === a.typeIds.length &&
      e.typeIds.every((typeId, k) => typeId === a.typeIds[k]);
    if (!same) mismatches.push({ input: inputs[i], expected: e, actual: a });
  }
  return mismatches;
}

const STRIP_OVERRIDE_CHARACTERS = new Set(Object.keys(HF_STRIP_ACCENTS_OVERRIDES).map((hex) => String.fromCodePoint(parseInt(hex, 16))));
const ASTRAL_CJK = /[\u{20000}-\u{2A6DF}\u{2A700}-\u{2CEAF}\u{2F800}-\u{2FA1F}]/u;
const V8_CONTROL = /^[\p{Cc}\p{Cf}\p{Co}\p{Cs}]$/u;
const V8_PUNCTUATION = /^[\p{P}\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]$/u;
const V8_NON_SPACING_MARK = /^\p{Mn}$/u;

export interface DeviationContext {
  lowercase: boolean;
  stripAccents: boolean;
  tokenizeChineseChars: boolean;
}

/**
 * Why transformers.js cannot give HF's ids for this text, or null when it should. Each reason is a
 * documented difference of transformers.js from HF tokenizers, confirmed by the tests that use it.
 */
export function transformersJsDeviation(text: string, context: DeviationContext): string | null {
  if (context.tokenizeChineseChars && ASTRAL_CJK.test(text)) {
    return 'transformers.js scans UTF-16 code units, so it does not space out astral CJK ideographs';
  }
  if (context.lowercase && text.includes('Σ')) {
    return 'transformers.js lowercases a word-final Σ to ς (String.prototype.toLowerCase); HF always gives σ';
  }
  const stripping = context.stripAccents;
  if (stripping && [...text].some((ch) => STRIP_OVERRIDE_CHARACTERS.has(ch))) {
    return 'V8 decomposes a character (NFD) that HF\'s older tables leave whole';
  }
  const decomposed = stripping ? text.normalize('NFD') : text;
  for (const ch of decomposed) {
    const cp = ch.codePointAt(0)!;
    const flags = charClassOf(cp);
    const hfRemoved = (flags & CharClass.Removed) !== 0;
    const v8Removed = cp === 0 || cp === 0xfffd || (cp !== 9 && cp !== 10 && cp !== 13 && V8_CONTROL.test(ch));
    const hfPunctuation = (flags & CharClass.Punctuation) !== 0;
    const hfMark = (flags & CharClass.NonSpacingMark) !== 0;
    if (hfRemoved !== v8Removed || hfPunctuation !== V8_PUNCTUATION.test(ch) || (stripping && hfMark !== V8_NON_SPACING_MARK.test(ch))) {
      return `U+${cp.toString(16).toUpperCase()} is classed differently by V8's newer Unicode tables than by HF's`;
    }
  }
  return null;
}
