/**
 * encodeWithOffsets against HF tokenizers: offsets (converted from HF's code points to UTF-16),
 * word ids and sequence ids for every STS-B sentence, pairs explicit and 'A ||| B', truncation,
 * the crafted Unicode cases, Chinese and random texts; and the same ids as encode everywhere.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { type EncodingWithOffsets, PAIR_SEPARATOR, WordPieceTokenizer } from '../../lib/tokenizer/index.js';
import { normalizeWithAlignment } from '../../lib/tokenizer/aligned-normalizer.js';
import { BertNormalizer } from '../../lib/tokenizer/normalizer.js';
import {
  type HfInput,
  type HfTokenizer,
  type ReferenceEncodingWithOffsets,
  buildChineseModelDir,
  hfEncodeWithOffsetsAll,
  loadHfTokenizer,
  modelsDir,
  readStsBenchmark,
} from './reference.js';
import { CHINESE_SENTENCES, UNICODE_CASES, randomTexts, unicodeCasePairs } from './unicode-cases.js';

const stsPairs = readStsBenchmark();
const stsSentences = stsPairs.flatMap((pair) => [pair.first, pair.second]);
const stsPairInputs: Array<[string, string]> = stsPairs.map(({ first, second }) => [first, second]);
const caseTexts = Object.values(UNICODE_CASES);
const fuzzTexts = randomTexts(2000, 99);
// Fewer lengths than sts-parity.test.ts, which covers truncation's ids; here the offsets follow them.
const PAIR_MAX_LENGTHS = [3, 8, 32];
const SINGLE_MAX_LENGTHS = [2, 16];

const shiftOfJoined = ([first]: [string, string]) => first.length + PAIR_SEPARATOR.length;

function ours(encoding: EncodingWithOffsets): ReferenceEncodingWithOffsets {
  const { ids, typeIds, offsets, wordIds, sequenceIds } = encoding;
  return { ids, typeIds, offsets, wordIds, sequenceIds };
}

/** Inputs whose encodings differ, with both sides (the first few are enough to debug). */
function mismatchesOf(inputs: unknown[], expected: ReferenceEncodingWithOffsets[], actual: ReferenceEncodingWithOffsets[]) {
  const found = [];
  for (let i = 0; i < inputs.length; i++) {
    if (JSON.stringify(expected[i]) !== JSON.stringify(actual[i])) found.push({ input: inputs[i], expected: expected[i], actual: actual[i] });
  }
  return found;
}

function report(label: string, compared: number, mismatches: unknown[]): void {
  console.log(`[offsets parity] ${label}: ${compared} compared, ${mismatches.length} mismatches`);
}

/** encodeWithOffsets must give encode's ids, tokens and type ids exactly. */
function expectSameAsEncode(tokenizer: WordPieceTokenizer, inputs: HfInput[], options?: { maxLength?: number; splitPairs?: boolean }) {
  const differing = inputs.filter((input) => {
    const [text, pair] = typeof input === 'string' ? [input, undefined] : input;
    const plain = tokenizer.encode(text, pair, options);
    const { ids, tokens, typeIds } = tokenizer.encodeWithOffsets(text, pair, options);
    return JSON.stringify(plain) !== JSON.stringify({ ids, tokens, typeIds });
  });
  expect(differing.slice(0, 3)).toEqual([]);
}

/**
 * What must hold whatever HF does: offsets lie in the text and never go back, and the text a token
 * points at normalizes to something holding the token (its [UNK] word, or the piece without '##').
 */
function expectOffsetsPointAtTokens(tokenizer: WordPieceTokenizer, normalizer: BertNormalizer, texts: string[]) {
  const broken: Array<{ text: string; token: string; start: number; end: number; source: string }> = [];
  for (const text of texts) {
    const encoding = tokenizer.encodeWithOffsets(text, undefined, { splitPairs: false });
    let previousStart = 0;
    encoding.offsets.forEach(([start, end], i) => {
      if (encoding.sequenceIds[i] === null) return;
      const token = encoding.tokens[i];
      const piece = token.startsWith('##') ? token.slice(2) : token;
      const source = text.slice(start, end);
      const holdsToken = token === '[UNK]' || source === token || normalizer.normalize(source).includes(piece);
      if (start < previousStart || end < start || end > text.length || !holdsToken) broken.push({ text, token, start, end, source });
      previousStart = start;
    });
  }
  expect(broken.slice(0, 3)).toEqual([]);
}

const MODELS = [
  { name: 'bert-base-uncased', dir: () => path.join(modelsDir, 'bert-base-uncased') },
  { name: 'all-MiniLM-L6-v2', dir: () => path.join(modelsDir, 'all-MiniLM-L6-v2') },
];

describe.each(MODELS)('$name: offsets on STS-B', ({ name, dir: makeDir }) => {
  let tokenizer: WordPieceTokenizer;
  let hf: HfTokenizer;

  beforeAll(() => {
    const dir = makeDir();
    tokenizer = WordPieceTokenizer.fromModelDir(dir);
    hf = loadHfTokenizer(path.join(dir, 'tokenizer.json'));
  });

  it('gives HF’s offsets, word ids and sequence ids for every sentence', async () => {
    const actual = stsSentences.map((text) => ours(tokenizer.encodeWithOffsets(text)));
    const mismatches = mismatchesOf(stsSentences, await hfEncodeWithOffsetsAll(hf, stsSentences), actual);
    report(`${name}, STS-B sentences`, stsSentences.length, mismatches);
    expect(mismatches.slice(0, 3)).toEqual([]);
    expectSameAsEncode(tokenizer, stsSentences);
  });

  it('gives HF’s for pairs: explicit (offsets into the pair) and A ||| B (offsets into the whole string)', async () => {
    const explicit = stsPairInputs.map(([first, second]) => ours(tokenizer.encodeWithOffsets(first, second)));
    const joined = stsPairInputs.map(([first, second]) => ours(tokenizer.encodeWithOffsets(`${first}${PAIR_SEPARATOR}${second}`)));
    const mismatches = [
      ...mismatchesOf(stsPairInputs, await hfEncodeWithOffsetsAll(hf, stsPairInputs), explicit),
      ...mismatchesOf(stsPairInputs, await hfEncodeWithOffsetsAll(hf, stsPairInputs, { secondShift: shiftOfJoined }), joined),
    ];
    report(`${name}, STS-B pairs explicit and A ||| B`, stsPairInputs.length * 2, mismatches);
    expect(mismatches.slice(0, 3)).toEqual([]);
    expectSameAsEncode(tokenizer, stsPairInputs);
    expectSameAsEncode(tokenizer, stsPairInputs.map(([first, second]) => `${first}${PAIR_SEPARATOR}${second}`));
  });

  it('gives HF’s when truncating pairs and single sentences', async () => {
    let compared = 0;
    const mismatches = [];
    for (const maxLength of PAIR_MAX_LENGTHS) {
      const explicit = stsPairInputs.map(([first, second]) => ours(tokenizer.encodeWithOffsets(first, second, { maxLength })));
      const joined = stsPairInputs.map(([first, second]) => ours(tokenizer.encodeWithOffsets(`${first}${PAIR_SEPARATOR}${second}`, undefined, { maxLength })));
      mismatches.push(
        ...mismatchesOf(stsPairInputs, await hfEncodeWithOffsetsAll(hf, stsPairInputs, { maxLength }), explicit),
        ...mismatchesOf(stsPairInputs, await hfEncodeWithOffsetsAll(hf, stsPairInputs, { maxLength, secondShift: shiftOfJoined }), joined),
      );
      compared += stsPairInputs.length * 2;
      expectSameAsEncode(tokenizer, stsPairInputs, { maxLength });
    }
    for (const maxLength of SINGLE_MAX_LENGTHS) {
      const actual = stsSentences.map((text) => ours(tokenizer.encodeWithOffsets(text, undefined, { maxLength })));
      mismatches.push(...mismatchesOf(stsSentences, await hfEncodeWithOffsetsAll(hf, stsSentences, { maxLength }), actual));
      compared += stsSentences.length;
    }
    report(`${name}, truncated STS-B pairs (maxLength ${PAIR_MAX_LENGTHS.join('/')}) and sentences`, compared, mismatches);
    expect(mismatches.slice(0, 3)).toEqual([]);
  });

  it('lets text.slice(start, end) give each token’s own characters', () => {
    const normalizer = new BertNormalizer({
      lowercase: tokenizer.config.doLowerCase,
      stripAccents: tokenizer.config.stripAccents,
      tokenizeChineseChars: tokenizer.config.tokenizeChineseChars,
    });
    expectOffsetsPointAtTokens(tokenizer, normalizer, stsSentences.slice(0, 3000));
  });
});

const UNICODE_MODELS = [...MODELS, { name: 'bert-base-chinese (cased, no accent stripping)', dir: buildChineseModelDir }];

describe.each(UNICODE_MODELS)('$name: offsets on crafted, Chinese and random Unicode', ({ name, dir: makeDir }) => {
  let tokenizer: WordPieceTokenizer;
  let hf: HfTokenizer;
  let normalizer: BertNormalizer;
  const texts = [...caseTexts, ...CHINESE_SENTENCES, ...fuzzTexts];

  beforeAll(() => {
    const dir = makeDir();
    tokenizer = WordPieceTokenizer.fromModelDir(dir);
    hf = loadHfTokenizer(path.join(dir, 'tokenizer.json'));
    normalizer = new BertNormalizer({
      lowercase: tokenizer.config.doLowerCase,
      stripAccents: tokenizer.config.stripAccents,
      tokenizeChineseChars: tokenizer.config.tokenizeChineseChars,
    });
  });

  it('aligns exactly the text the normalizer gives', () => {
    const differing = texts.filter((text) => normalizeWithAlignment(text, normalizer, 0).text !== normalizer.normalize(text));
    expect(differing.slice(0, 3)).toEqual([]);
    const aligned = normalizeWithAlignment('x', normalizer, 7);
    expect([aligned.starts, aligned.ends]).toEqual([[7], [8]]);
  });

  it('gives HF’s offsets, word ids and sequence ids for every text', async () => {
    const actual = texts.map((text) => ours(tokenizer.encodeWithOffsets(text, undefined, { splitPairs: false })));
    const mismatches = mismatchesOf(texts, await hfEncodeWithOffsetsAll(hf, texts), actual);
    report(`${name}, ${texts.length} crafted/Chinese/random texts`, texts.length, mismatches);
    expect(mismatches.slice(0, 3)).toEqual([]);
    expectSameAsEncode(tokenizer, texts, { splitPairs: false });
  });

  it('gives HF’s for pairs, explicit and A ||| B, whole and truncated', async () => {
    const pairs = unicodeCasePairs();
    let compared = 0;
    const mismatches = [];
    for (const maxLength of [undefined, 4, 9, 17]) {
      const explicit = pairs.map(([first, second]) => ours(tokenizer.encodeWithOffsets(first, second, { maxLength })));
      const joined = pairs.map(([first, second]) => ours(tokenizer.encodeWithOffsets(`${first}${PAIR_SEPARATOR}${second}`, undefined, { maxLength })));
      mismatches.push(
        ...mismatchesOf(pairs, await hfEncodeWithOffsetsAll(hf, pairs, { maxLength }), explicit),
        // A case text holding ' ||| ' itself would be split elsewhere; none does.
        ...mismatchesOf(pairs, await hfEncodeWithOffsetsAll(hf, pairs, { maxLength, secondShift: shiftOfJoined }), joined),
      );
      compared += pairs.length * 2;
      expectSameAsEncode(tokenizer, pairs, { maxLength });
    }
    report(`${name}, crafted pairs (whole, maxLength 4/9/17)`, compared, mismatches);
    expect(mismatches.slice(0, 3)).toEqual([]);
  });

  it('lets text.slice(start, end) give each token’s own characters', () => {
    expectOffsetsPointAtTokens(tokenizer, normalizer, texts);
  });
});

describe('offsets of particular texts (bert-base-uncased)', () => {
  let tokenizer: WordPieceTokenizer;

  beforeAll(() => {
    tokenizer = WordPieceTokenizer.fromModelDir(path.join(modelsDir, 'bert-base-uncased'));
  });

  const sliced = (text: string, encoding: EncodingWithOffsets, base = text) =>
    encoding.offsets.map(([start, end], i) => (encoding.sequenceIds[i] === null ? null : base.slice(start, end)));

  it('keeps [MASK] in the text as its own word, with its own characters', () => {
    const text = 'The capital of France is [MASK].';
    const encoding = tokenizer.encodeWithOffsets(text);
    expect(encoding.tokens).toEqual(['[CLS]', 'the', 'capital', 'of', 'france', 'is', '[MASK]', '.', '[SEP]']);
    expect(sliced(text, encoding)).toEqual([null, 'The', 'capital', 'of', 'France', 'is', '[MASK]', '.', null]);
    expect(encoding.wordIds).toEqual([null, 0, 1, 2, 3, 4, 5, 6, null]);
    expect(encoding.sequenceIds).toEqual([null, 0, 0, 0, 0, 0, 0, 0, null]);
  });

  it('maps lowercased, accent-stripped and expanded characters to their source, in UTF-16 units', () => {
    const text = 'İstanbul 😀 Crème ﬁne';
    const encoding = tokenizer.encodeWithOffsets(text);
    expect(encoding.tokens).toEqual(['[CLS]', 'istanbul', '[UNK]', 'cr', '##eme', 'ﬁ', '##ne', '[SEP]']);
    expect(sliced(text, encoding)).toEqual([null, 'İstanbul', '😀', 'Cr', 'ème', 'ﬁ', 'ne', null]);
    expect(encoding.offsets[2]).toEqual([9, 11]); // the emoji is two UTF-16 units (HF counts it as one character)
    expect(encoding.wordIds).toEqual([null, 0, 1, 2, 2, 3, 3, null]);
  });

  it('gives a removed character to no token', () => {
    const text = 'cafe\u0301 zero\u200bwidth';
    const encoding = tokenizer.encodeWithOffsets(text);
    expect(encoding.tokens[1]).toBe('cafe');
    expect(encoding.offsets[1]).toEqual([0, 4]); // the combining accent after it is dropped by the normalizer
  });

  it('gives the second sequence of A ||| B offsets into the whole string, and of an explicit pair into the pair', () => {
    const joined = tokenizer.encodeWithOffsets('Hello there ||| General Kenobi');
    expect(sliced('Hello there ||| General Kenobi', joined)).toEqual([null, 'Hello', 'there', null, 'General', 'Ken', 'ob', 'i', null]);
    expect(joined.sequenceIds).toEqual([null, 0, 0, null, 1, 1, 1, 1, null]);
    expect(joined.wordIds).toEqual([null, 0, 1, null, 0, 1, 1, 1, null]);
    const explicit = tokenizer.encodeWithOffsets('Hello there', 'General Kenobi');
    expect(explicit.offsets.slice(4, 8)).toEqual([[0, 7], [8, 11], [11, 13], [13, 14]]);
    expect(tokenizer.encodeWithOffsets('a ||| b', undefined, { splitPairs: false }).sequenceIds).toEqual([null, 0, 0, 0, 0, 0, null]);
  });

  it('checks its arguments as encode does', () => {
    expect(() => tokenizer.encodeWithOffsets(42 as unknown as string)).toThrow('Expected string for text but received 42 of type number');
    expect(() => tokenizer.encodeWithOffsets('a', 'b', { maxLength: 2 })).toThrow(RangeError);
  });
});

describe('encodeTokenizedWithOffsets', () => {
  let tokenizer: WordPieceTokenizer;

  beforeAll(() => {
    tokenizer = WordPieceTokenizer.fromModelDir(path.join(modelsDir, 'bert-base-uncased'));
  });

  it('gives encodeTokenized’s ids, each token its own word, and offsets [0, 0]', () => {
    const tokens = ['hello', 'world', 'qqqzzz'];
    const encoding = tokenizer.encodeTokenizedWithOffsets(tokens, ['again']);
    const { ids, tokens: pieces, typeIds } = tokenizer.encodeTokenized(tokens, ['again']);
    expect({ ids: encoding.ids, tokens: encoding.tokens, typeIds: encoding.typeIds }).toEqual({ ids, tokens: pieces, typeIds });
    expect(encoding.wordIds).toEqual([null, 0, 1, 2, null, 0, null]);
    expect(encoding.sequenceIds).toEqual([null, 0, 0, 0, null, 1, null]);
    expect(encoding.offsets.every(([start, end]) => start === 0 && end === 0)).toBe(true);
  });

  it('truncates as encodeTokenized does', () => {
    const first = ['a', 'b', 'c', 'd', 'e'];
    const second = ['f', 'g', 'h'];
    for (const maxLength of [3, 4, 5, 7, 20]) {
      const encoding = tokenizer.encodeTokenizedWithOffsets(first, second, { maxLength });
      expect(encoding.ids).toEqual(tokenizer.encodeTokenized(first, second, { maxLength }).ids);
      expect(encoding.offsets.length).toBe(encoding.ids.length);
      expect(encoding.wordIds.length).toBe(encoding.ids.length);
      expect(encoding.sequenceIds.filter((id) => id === 1).length).toBe(encoding.typeIds.filter((id) => id === 1).length - 1);
    }
    expect(tokenizer.encodeTokenizedWithOffsets(first, undefined, { maxLength: 4 }).wordIds).toEqual([null, 0, 1, null]);
  });
});

describe('added tokens that absorb whitespace, and one not special (a tokenizer.json variant)', () => {
  let dir: string;
  let tokenizer: WordPieceTokenizer;
  let hf: HfTokenizer;

  beforeAll(() => {
    const json = JSON.parse(readFileSync(path.join(modelsDir, 'bert-base-uncased', 'tokenizer.json'), 'utf8'));
    for (const token of json.added_tokens) if (token.content === '[MASK]') Object.assign(token, { lstrip: true, rstrip: true });
    const extraId = Object.keys(json.model.vocab).length;
    json.added_tokens.push({ id: extraId, content: '<extra>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: false });
    dir = mkdtempSync(path.join(os.tmpdir(), 'bert-embed-offsets-'));
    writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(json));
    tokenizer = WordPieceTokenizer.fromModelDir(dir);
    hf = loadHfTokenizer(path.join(dir, 'tokenizer.json'));
  });

  it('gives HF’s offsets: an absorbing token covers the whitespace it took', async () => {
    const texts = ['Paris is the [MASK]  of France.', 'x [MASK]<extra>[MASK] y', '  [MASK]  ', 'a<extra>b É<extra>', ...caseTexts];
    const actual = texts.map((text) => ours(tokenizer.encodeWithOffsets(text, undefined, { splitPairs: false })));
    expect(mismatchesOf(texts, await hfEncodeWithOffsetsAll(hf, texts), actual).slice(0, 3)).toEqual([]);
    const masked = tokenizer.encodeWithOffsets('Paris is the [MASK]  of France.');
    expect('Paris is the [MASK]  of France.'.slice(...masked.offsets[4])).toBe(' [MASK]  ');
  });

  it('decodes as HF does, keeping a token not marked special when skipping the special ones', async () => {
    const ids = tokenizer.encode('x [MASK]<extra> y').ids;
    for (const skipSpecialTokens of [false, true]) {
      expect(tokenizer.decode(ids, { skipSpecialTokens, cleanUpTokenizationSpaces: false })).toBe(await hf.decode(ids, skipSpecialTokens));
    }
    expect(tokenizer.decode(ids, { skipSpecialTokens: true })).toBe('x <extra> y');
  });
});
