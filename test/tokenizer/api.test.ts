/**
 * The public API: loading from each kind of model folder, the normalizer settings, pretokenized
 * input, batches, the truncation rule on every small pair of lengths, and the errors bad input gets.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { WordPieceTokenizer } from '../../lib/tokenizer/index.js';
import { WordPieceModel } from '../../lib/tokenizer/wordpiece.js';
import {
  type HfTokenizer,
  buildChineseModelDir,
  compareEncodings,
  hfEncodeAll,
  loadHfTokenizer,
  modelsDir,
  readStsBenchmark,
  vocabOnlyModelDir,
} from './reference.js';
import { CHINESE_SENTENCES, UNICODE_CASES, randomTexts, seededRandom } from './unicode-cases.js';

const uncasedDir = path.join(modelsDir, 'bert-base-uncased');
const miniLmDir = path.join(modelsDir, 'all-MiniLM-L6-v2');
const stsSample = readStsBenchmark()
  .slice(0, 1500)
  .flatMap(({ first, second }) => [first, second]);
const sampleTexts = [...stsSample, ...Object.values(UNICODE_CASES), ...CHINESE_SENTENCES, ...randomTexts(500, 7)];

function encodeAll(tokenizer: WordPieceTokenizer, texts: string[]) {
  return texts.map((text) => {
    const { ids, typeIds } = tokenizer.encode(text, undefined, { splitPairs: false });
    return { ids, typeIds };
  });
}

/** A copy of a tokenizer.json with some settings changed, in a temp folder; returns the folder. */
function tokenizerJsonVariant(sourceDir: string, change: (json: Record<string, any>) => void): string {
  const json = JSON.parse(readFileSync(path.join(sourceDir, 'tokenizer.json'), 'utf8'));
  change(json);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bert-embed-tokenizer-variant-'));
  writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(json));
  return dir;
}

describe('loading', () => {
  it('gives the same ids from vocab.txt + tokenizer_config.json as from tokenizer.json', () => {
    const chineseDir = buildChineseModelDir();
    const folders: Array<[string, string]> = [
      [uncasedDir, vocabOnlyModelDir('bert-base-uncased')],
      [miniLmDir, vocabOnlyModelDir('all-MiniLM-L6-v2', JSON.parse(readFileSync(path.join(miniLmDir, 'tokenizer_config.json'), 'utf8')))],
      [chineseDir, vocabOnlyModelDir('bert-base-chinese', JSON.parse(readFileSync(path.join(chineseDir, 'tokenizer_config.json'), 'utf8')))],
    ];
    for (const [jsonDir, vocabDir] of folders) {
      const fromJson = WordPieceTokenizer.fromModelDir(jsonDir);
      const fromVocab = WordPieceTokenizer.fromModelDir(vocabDir);
      expect(fromVocab.config).toEqual(fromJson.config);
      expect(compareEncodings(sampleTexts, encodeAll(fromJson, sampleTexts), encodeAll(fromVocab, sampleTexts)).slice(0, 3)).toEqual([]);
    }
  });

  it('defaults to an uncased, Chinese-aware tokenizer when only vocab.txt exists', () => {
    const tokenizer = WordPieceTokenizer.fromModelDir(vocabOnlyModelDir('bert-base-chinese'));
    expect(tokenizer.config).toMatchObject({ doLowerCase: true, stripAccents: null, tokenizeChineseChars: true, maxInputCharsPerWord: 100 });
    expect(tokenizer.config.modelMaxLength).toBeUndefined();
  });

  it('reads model_max_length and the special token names from tokenizer_config.json', () => {
    const miniLm = WordPieceTokenizer.fromModelDir(miniLmDir);
    const configFile = JSON.parse(readFileSync(path.join(miniLmDir, 'tokenizer_config.json'), 'utf8'));
    expect(miniLm.config.modelMaxLength).toBe(configFile.model_max_length);
    expect(miniLm.config.maskToken).toBe(configFile.mask_token);
    expect(WordPieceTokenizer.fromModelDir(uncasedDir).config.modelMaxLength).toBeUndefined();
  });

  it('agrees with HF tokenizers on every id ↔ token and on the special ids', () => {
    for (const dir of [uncasedDir, buildChineseModelDir()]) {
      const hf = loadHfTokenizer(path.join(dir, 'tokenizer.json'));
      const tokenizer = WordPieceTokenizer.fromModelDir(dir);
      const vocab = hf.getVocab(true);
      for (const [token, id] of Object.entries(vocab)) {
        expect(tokenizer.tokenToId(token)).toBe(id);
        expect(tokenizer.idToToken(id)).toBe(hf.idToToken(id));
      }
      expect(tokenizer.clsId).toBe(hf.tokenToId('[CLS]'));
      expect(tokenizer.sepId).toBe(hf.tokenToId('[SEP]'));
      expect(tokenizer.padId).toBe(hf.tokenToId('[PAD]'));
      expect(tokenizer.unkId).toBe(hf.tokenToId('[UNK]'));
      // One more than the largest id: the rows an embedding table needs, duplicate vocab lines included.
      expect(tokenizer.vocabSize).toBe(Math.max(...Object.values(vocab)) + 1);
    }
  });

  it('builds the same tokenizer from a vocabulary array or map as from the folder', () => {
    const lines = readFileSync(path.join(uncasedDir, 'vocab.txt'), 'utf8').split('\n').slice(0, -1);
    const fromFolder = WordPieceTokenizer.fromModelDir(uncasedDir);
    const fromArray = WordPieceTokenizer.fromVocab(lines);
    const fromMap = WordPieceTokenizer.fromVocab(new Map(lines.map((token, id) => [token, id])));
    for (const tokenizer of [fromArray, fromMap]) {
      expect(compareEncodings(sampleTexts, encodeAll(fromFolder, sampleTexts), encodeAll(tokenizer, sampleTexts)).slice(0, 3)).toEqual([]);
    }
  });

  it('rejects tokenizer.json files of other tokenizer kinds with a message naming the part', () => {
    const bpeLike = tokenizerJsonVariant(uncasedDir, (json) => {
      json.normalizer = { type: 'NFC' };
    });
    expect(() => WordPieceTokenizer.fromModelDir(bpeLike)).toThrow(/normalizer NFC/);
    expect(() => WordPieceTokenizer.fromModelDir(mkdtempSync(path.join(os.tmpdir(), 'empty-')))).toThrow(/tokenizer\.json or vocab\.txt/);
  });
});

describe('normalizer and model settings match HF tokenizers', () => {
  const settings = [
    { name: 'cased, strip_accents true', normalizer: { lowercase: false, strip_accents: true } },
    { name: 'lowercase, strip_accents false', normalizer: { lowercase: true, strip_accents: false } },
    { name: 'lowercase, no CJK spacing', normalizer: { lowercase: true, handle_chinese_chars: false } },
    { name: 'max_input_chars_per_word 6', model: { max_input_chars_per_word: 6 } },
  ];
  it.each(settings)('$name', async ({ normalizer, model }) => {
    const dir = tokenizerJsonVariant(uncasedDir, (json) => {
      Object.assign(json.normalizer, normalizer ?? {});
      Object.assign(json.model, model ?? {});
    });
    const tokenizer = WordPieceTokenizer.fromModelDir(dir);
    const expected = await hfEncodeAll(loadHfTokenizer(path.join(dir, 'tokenizer.json')), sampleTexts);
    const mismatches = compareEncodings(sampleTexts, expected, encodeAll(tokenizer, sampleTexts));
    console.log(`[tokenizer parity] setting ${JSON.stringify({ ...normalizer, ...model })}: ${sampleTexts.length} compared, ${mismatches.length} mismatches`);
    expect(mismatches.slice(0, 3)).toEqual([]);
  });

  it('reads another continuing-subword prefix from tokenizer.json', async () => {
    const dir = tokenizerJsonVariant(uncasedDir, (json) => {
      json.model.continuing_subword_prefix = '@@';
      json.model.vocab = Object.fromEntries(
        Object.entries(json.model.vocab).map(([token, id]) => [token.startsWith('##') ? `@@${token.slice(2)}` : token, id]),
      );
    });
    const tokenizer = WordPieceTokenizer.fromModelDir(dir);
    expect(tokenizer.config.continuingSubwordPrefix).toBe('@@');
    const expected = await hfEncodeAll(loadHfTokenizer(path.join(dir, 'tokenizer.json')), sampleTexts);
    expect(compareEncodings(sampleTexts, expected, encodeAll(tokenizer, sampleTexts)).slice(0, 3)).toEqual([]);
    expect(tokenizer.tokenize('unaffable').slice(1).every((piece) => piece.startsWith('@@'))).toBe(true);
  });
});

describe('encoding', () => {
  let tokenizer: WordPieceTokenizer;
  let hf: HfTokenizer;
  beforeAll(() => {
    tokenizer = WordPieceTokenizer.fromModelDir(uncasedDir);
    hf = loadHfTokenizer(path.join(uncasedDir, 'tokenizer.json'));
  });

  it('tokenize gives the word pieces without special tokens, as HF tokenizers', async () => {
    for (const text of sampleTexts.slice(0, 400)) {
      const encoding = await hf.encode(text, null, { addSpecialTokens: false });
      expect(tokenizer.tokenize(text)).toEqual(encoding.getTokens());
    }
  });

  it('returns the tokens of the ids, and type ids 0 then 1', () => {
    const encoding = tokenizer.encode('Hello there ||| General Kenobi!');
    expect(encoding.tokens).toEqual(encoding.ids.map((id) => tokenizer.idToToken(id)));
    const firstSep = encoding.tokens.indexOf('[SEP]');
    expect(encoding.typeIds).toEqual(encoding.ids.map((_, i) => (i <= firstSep ? 0 : 1)));
    expect(encoding.tokens[0]).toBe('[CLS]');
    expect(encoding.tokens.at(-1)).toBe('[SEP]');
  });

  it("splits 'A ||| B' on the first separator only, and not at all when splitPairs is false", async () => {
    const text = 'a ||| b ||| c';
    const split = tokenizer.encode(text);
    const expected = await hf.encode('a', 'b ||| c');
    expect(split.ids).toEqual(expected.getIds());
    expect(split.typeIds).toEqual(expected.getTypeIds());
    const whole = tokenizer.encode(text, undefined, { splitPairs: false });
    expect(whole.ids).toEqual((await hf.encode(text)).getIds());
    // An explicit pair wins over the separator.
    expect(tokenizer.encode(text, 'd').ids).toEqual((await hf.encode(text, 'd')).getIds());
  });

  it('keeps an empty second sequence as a pair, as HF tokenizers does', async () => {
    for (const [first, second] of [['hello', ''], ['', ''], ['', 'world']]) {
      const expected = await hf.encode(first, second);
      expect(tokenizer.encode(first, second).ids).toEqual(expected.getIds());
      expect(tokenizer.encode(`${first} ||| ${second}`).typeIds).toEqual(expected.getTypeIds());
    }
  });

  it('encodeBatch gives what encode gives, for strings and explicit pairs', () => {
    const inputs: Array<string | [string, string]> = [...stsSample.slice(0, 50), ['first part', 'second part'], 'x ||| y', ''];
    for (const maxLength of [undefined, 6]) {
      const batch = tokenizer.encodeBatch(inputs, { maxLength });
      inputs.forEach((input, i) => {
        const single = typeof input === 'string' ? tokenizer.encode(input, undefined, { maxLength }) : tokenizer.encode(input[0], input[1], { maxLength });
        expect(batch[i]).toEqual(single);
      });
    }
  });

  it('looks pretokenized tokens up as they are, unknown ones becoming [UNK] (bert-as-service is_tokenized)', () => {
    const tokens = ['hello', '##s', 'World', '[MASK]', 'zzzzqqq', ''];
    const encoding = tokenizer.encodeTokenized(tokens);
    const expected = tokens.map((token) => hf.tokenToId(token) ?? tokenizer.unkId);
    expect(encoding.ids).toEqual([tokenizer.clsId, ...expected, tokenizer.sepId]);
    expect(encoding.typeIds.every((typeId) => typeId === 0)).toBe(true);
    const pair = tokenizer.encodeTokenized(['a', 'b'], ['c']);
    expect(pair.ids).toEqual([tokenizer.clsId, hf.tokenToId('a'), hf.tokenToId('b'), tokenizer.sepId, hf.tokenToId('c'), tokenizer.sepId]);
    expect(pair.typeIds).toEqual([0, 0, 0, 0, 1, 1]);
  });

  it('truncates pretokenized input as it truncates text of one-piece words', () => {
    const random = seededRandom(11);
    const words = 'a b c d e f g h i j k l m n o p'.split(' ');
    for (let n = 0; n < 300; n++) {
      const first = words.slice(0, Math.floor(random() * 16));
      const second = words.slice(0, Math.floor(random() * 16));
      const maxLength = 3 + Math.floor(random() * 14);
      const fromTokens = tokenizer.encodeTokenized(first, second, { maxLength });
      const fromText = tokenizer.encode(first.join(' '), second.join(' '), { maxLength });
      expect(fromTokens).toEqual(fromText);
      const single = tokenizer.encodeTokenized(first, undefined, { maxLength });
      expect(single).toEqual(tokenizer.encode(first.join(' '), undefined, { maxLength }));
    }
  });

  it('truncates longest-first exactly as HF tokenizers for every small pair of lengths, words and special tokens', async () => {
    // Words of one piece, of several pieces, punctuation and special tokens, so the read limit
    // (HF stops reading a sequence at the first word that reaches maxLength) is exercised too.
    const pieces = ['a', 'b', 'shredding', 'unaffable', ',', '[MASK]', 'cabbage', '!', '[SEP]', 'q'];
    const random = seededRandom(3);
    const pairs: Array<[string, string]> = [];
    for (let n = 0; n < 600; n++) {
      const make = () => Array.from({ length: Math.floor(random() * 12) }, () => pieces[Math.floor(random() * pieces.length)]).join(' ');
      pairs.push([make(), make()]);
    }
    let compared = 0;
    const mismatches = [];
    for (let maxLength = 3; maxLength <= 16; maxLength++) {
      const expected = await hfEncodeAll(hf, pairs, maxLength);
      const actual = pairs.map(([first, second]) => {
        const { ids, typeIds } = tokenizer.encode(first, second, { maxLength });
        return { ids, typeIds };
      });
      mismatches.push(...compareEncodings(pairs, expected, actual));
      compared += pairs.length;
    }
    console.log(`[tokenizer parity] truncation grid (maxLength 3..16): ${compared} pairs compared, ${mismatches.length} mismatches`);
    expect(mismatches.slice(0, 3)).toEqual([]);
  });

  it('keeps a bounded word cache that never changes the result', () => {
    const vocab = new Map(readFileSync(path.join(uncasedDir, 'vocab.txt'), 'utf8').split('\n').slice(0, -1).map((token, id) => [token, id]));
    const options = { unkId: vocab.get('[UNK]')!, continuingSubwordPrefix: '##', maxInputCharsPerWord: 100 };
    const tiny = new WordPieceModel(vocab, { ...options, cacheCapacity: 2 });
    const roomy = new WordPieceModel(vocab, options);
    const words = stsSample.join(' ').toLowerCase().split(/[^a-z]+/).filter(Boolean).slice(0, 3000);
    const firstPass = words.map((word) => {
      const ids: number[] = [];
      roomy.pushPieceIds(word, ids);
      return ids;
    });
    // Twice over, so the tiny cache both hits and evicts, the roomy one answers from memory.
    for (let pass = 0; pass < 2; pass++) {
      words.forEach((word, i) => {
        const fromTiny: number[] = [];
        const fromRoomy: number[] = [];
        tiny.pushPieceIds(word, fromTiny);
        roomy.pushPieceIds(word, fromRoomy);
        expect(fromTiny).toEqual(firstPass[i]);
        expect(fromRoomy).toEqual(firstPass[i]);
      });
    }
  });
});

describe('bad input', () => {
  let tokenizer: WordPieceTokenizer;
  beforeAll(() => {
    tokenizer = WordPieceTokenizer.fromModelDir(uncasedDir);
  });

  it('names the field, the expectation and what was received', () => {
    expect(() => tokenizer.encode(42 as unknown as string)).toThrow(new TypeError('Expected string for text but received 42 of type number'));
    expect(() => tokenizer.encode('a', undefined, { maxLength: -1 })).toThrow(
      new RangeError('Expected positive integer for maxLength but received -1 of type number'),
    );
    expect(() => tokenizer.encode('a', undefined, { maxLength: 2.5 })).toThrow(
      new TypeError('Expected positive integer for maxLength but received 2.5 of type number'),
    );
    expect(() => tokenizer.encode('a', 7 as unknown as string)).toThrow(new TypeError('Expected string for pair but received 7 of type number'));
    expect(() => tokenizer.encode('a', undefined, { splitPairs: 'no' as unknown as boolean })).toThrow(
      new TypeError('Expected boolean for splitPairs but received "no" of type string'),
    );
    expect(() => tokenizer.encodeTokenized(['a', null as unknown as string])).toThrow(
      new TypeError('Expected string for tokens[1] but received null of type null'),
    );
    expect(() => tokenizer.encodeBatch('a' as unknown as string[])).toThrow(TypeError);
    expect(() => tokenizer.encodeBatch(['a', ['b'] as unknown as [string, string]])).toThrow(
      new TypeError('Expected string or [string, string] pair for inputs[1] but received an array of length 1 of type array'),
    );
    expect(() => tokenizer.idToToken(-1)).toThrow(RangeError);
  });

  it('refuses a maxLength with no room for the special tokens', () => {
    expect(() => tokenizer.encode('a', undefined, { maxLength: 1 })).toThrow(
      new RangeError('Expected integer >= 2 (room for [CLS] and [SEP]) for maxLength but received 1 of type number'),
    );
    expect(() => tokenizer.encode('a', 'b', { maxLength: 2 })).toThrow(/integer >= 3/);
    expect(tokenizer.encode('a b', 'c d', { maxLength: 3 }).tokens).toEqual(['[CLS]', '[SEP]', '[SEP]']);
  });

  it('checks the configuration and the vocabulary of fromVocab', () => {
    expect(() => WordPieceTokenizer.fromVocab(['[UNK]', '[SEP]', '[PAD]'])).toThrow(
      new RangeError('Expected a token of the vocabulary for config.clsToken but received "[CLS]" of type string'),
    );
    expect(() => WordPieceTokenizer.fromVocab(['a'], { doLowerCase: 'yes' as unknown as boolean })).toThrow(
      new TypeError('Expected boolean for config.doLowerCase but received "yes" of type string'),
    );
    expect(() => WordPieceTokenizer.fromVocab(['a'], { lowercase: true } as never)).toThrow(/config key/);
    expect(() => WordPieceTokenizer.fromVocab(42 as unknown as string[])).toThrow(TypeError);
  });
});
