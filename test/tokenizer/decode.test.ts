/**
 * decode against HF tokenizers (Rust: the WordPiece decoder alone) and transformers.js (the
 * decoder, then clean_up_tokenization by default) on the ids of every STS-B sentence and pair, and
 * on random ids; plus the config settings that steer it and the errors bad input gets.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { WordPieceTokenizer } from '../../lib/tokenizer/index.js';
import { cleanUpTokenization, decodeWordPieces } from '../../lib/tokenizer/decoder.js';
import {
  type HfTokenizer,
  buildChineseModelDir,
  hfEncodeAll,
  loadHfTokenizer,
  loadTransformersTokenizer,
  modelsDir,
  readStsBenchmark,
} from './reference.js';
import { CHINESE_SENTENCES, seededRandom } from './unicode-cases.js';

const stsPairs = readStsBenchmark();
const stsSentences = stsPairs.flatMap((pair) => [pair.first, pair.second]);

const MODELS = [
  { name: 'bert-base-uncased', dir: () => path.join(modelsDir, 'bert-base-uncased'), text: 'The capital of France is Paris.', decoded: 'the capital of france is paris.' },
  { name: 'all-MiniLM-L6-v2', dir: () => path.join(modelsDir, 'all-MiniLM-L6-v2'), text: 'Héllo, wörld!', decoded: 'hello, world!' },
  { name: 'bert-base-chinese', dir: buildChineseModelDir, text: '我爱北京，beijing!', decoded: '我 爱 北 京 ， beijing!' },
];

type TransformersTokenizer = Awaited<ReturnType<typeof loadTransformersTokenizer>>;

/** HF tokenizers' decode of many id lists, in batches. */
async function hfDecodeAll(hf: HfTokenizer, idLists: number[][], skipSpecialTokens: boolean): Promise<string[]> {
  const decoded: string[] = [];
  for (let start = 0; start < idLists.length; start += 2048) {
    decoded.push(...(await hf.decodeBatch(idLists.slice(start, start + 2048), skipSpecialTokens)));
  }
  return decoded;
}

function differences(idLists: number[][], expected: string[], actual: string[]) {
  return idLists.flatMap((ids, i) => (expected[i] === actual[i] ? [] : [{ ids, expected: expected[i], actual: actual[i] }]));
}

/** Random ids over the whole vocabulary, special tokens and '##' pieces included. */
function randomIdLists(count: number, vocabSize: number, seed: number): number[][] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => Array.from({ length: 1 + Math.floor(random() * 30) }, () => Math.floor(random() * vocabSize)));
}

describe.each(MODELS)('$name: decode', ({ name, dir: makeDir, text, decoded }) => {
  let tokenizer: WordPieceTokenizer;
  let hf: HfTokenizer;
  let transformers: TransformersTokenizer;
  let idLists: number[][];

  beforeAll(async () => {
    const dir = makeDir();
    tokenizer = WordPieceTokenizer.fromModelDir(dir);
    hf = loadHfTokenizer(path.join(dir, 'tokenizer.json'));
    transformers = await loadTransformersTokenizer(dir);
    const texts = [...stsSentences, ...CHINESE_SENTENCES, "I don't know, it's John's car. Isn't it? Yes! We're sure they've left; I'm told 'quote' ..."];
    const pairs = stsPairs.slice(0, 2000).map(({ first, second }): [string, string] => [first, second]);
    const masked = stsSentences.slice(0, 2000).map((text, i) => text.replace(/\b\w+\b/, i % 2 ? '[MASK]' : '[UNK] [PAD]'));
    idLists = [
      ...(await hfEncodeAll(hf, [...texts, ...pairs, ...masked])).map((encoding) => encoding.ids),
      ...randomIdLists(2000, tokenizer.vocabSize, 5),
    ];
  });

  it('gives HF tokenizers’ text without clean-up, with and without skipSpecialTokens', async () => {
    for (const skipSpecialTokens of [false, true]) {
      const expected = await hfDecodeAll(hf, idLists, skipSpecialTokens);
      const actual = idLists.map((ids) => tokenizer.decode(ids, { skipSpecialTokens, cleanUpTokenizationSpaces: false }));
      const found = differences(idLists, expected, actual);
      console.log(`[decode parity] ${name}, vs HF tokenizers, skipSpecialTokens ${skipSpecialTokens}: ${idLists.length} compared, ${found.length} mismatches`);
      expect(found.slice(0, 3)).toEqual([]);
    }
  });

  it('gives transformers.js’s text, cleaned up by default as its config says, and not when asked', () => {
    // bert-base-chinese's vocab.txt repeats some lines, so the earlier ids of those name no token:
    // HF leaves them out (as we do), transformers.js writes [UNK]. Those lists are set aside.
    const named = idLists.filter((ids) => ids.every((id) => tokenizer.idToToken(id) !== undefined));
    const unnamed = idLists.filter((ids) => !named.includes(ids));
    console.log(`[decode parity] ${name}, ${unnamed.length} id lists naming an id with no token set aside for transformers.js`);
    for (const ids of unnamed) expect(transformers.decode(ids)).toContain('[UNK]');
    for (const skipSpecialTokens of [false, true]) {
      for (const cleanUp of [undefined, false, true]) {
        const expected = named.map((ids) =>
          transformers.decode(ids, { skip_special_tokens: skipSpecialTokens, ...(cleanUp === undefined ? {} : { clean_up_tokenization_spaces: cleanUp }) }),
        );
        const actual = named.map((ids) =>
          tokenizer.decode(ids, { skipSpecialTokens, ...(cleanUp === undefined ? {} : { cleanUpTokenizationSpaces: cleanUp }) }),
        );
        const found = differences(named, expected, actual);
        console.log(`[decode parity] ${name}, vs transformers.js, skip ${skipSpecialTokens}, clean-up ${cleanUp ?? 'default'}: ${found.length} mismatches`);
        expect(found.slice(0, 3)).toEqual([]);
      }
    }
  });

  it('gives back the normalized words of an encoded text', () => {
    expect(tokenizer.decode(tokenizer.encode(text).ids, { skipSpecialTokens: true })).toBe(decoded);
  });
});

describe('decode details (bert-base-uncased)', () => {
  const uncasedDir = path.join(modelsDir, 'bert-base-uncased');
  let tokenizer: WordPieceTokenizer;

  beforeAll(() => {
    tokenizer = WordPieceTokenizer.fromModelDir(uncasedDir);
  });

  const idsOf = (tokens: string[]) => tokens.map((token) => tokenizer.tokenToId(token)!);

  it('glues continuation pieces, keeps a leading one, and cleans up across tokens', () => {
    expect(tokenizer.decode(idsOf(['##ing', 'play', '##ing']))).toBe('##ing playing');
    expect(tokenizer.decode(idsOf(['do', 'n', "'", 't', 'go', '!']))).toBe("don't go!");
    expect(tokenizer.decode(idsOf(['do', 'n', "'", 't', 'go', '!']), { cleanUpTokenizationSpaces: false })).toBe("do n ' t go!");
  });

  it('leaves out every special token with skipSpecialTokens, [MASK] and [UNK] included', () => {
    const ids = idsOf(['[CLS]', 'a', '[MASK]', '[UNK]', '[SEP]', 'b', '[SEP]', '[PAD]']);
    expect(tokenizer.decode(ids)).toBe('[CLS] a [MASK] [UNK] [SEP] b [SEP] [PAD]');
    expect(tokenizer.decode(ids, { skipSpecialTokens: true })).toBe('a b');
  });

  it('gives empty text for no ids, and leaves out ids that name no token as HF does', () => {
    expect(tokenizer.decode([])).toBe('');
    expect(tokenizer.decode([...idsOf(['a']), tokenizer.vocabSize + 5, ...idsOf(['b'])])).toBe('a b');
  });

  it('checks its arguments', () => {
    expect(() => tokenizer.decode('1 2' as unknown as number[])).toThrow(TypeError);
    expect(() => tokenizer.decode([1, -1])).toThrow('Expected non-negative integer for ids[1] but received -1 of type number');
    expect(() => tokenizer.decode([1.5])).toThrow(TypeError);
    expect(() => tokenizer.decode([1], { skipSpecialTokens: 'yes' as unknown as boolean })).toThrow(
      "Expected boolean for skipSpecialTokens but received \"yes\" of type string",
    );
    expect(() => tokenizer.decode([1], null as unknown as object)).toThrow(TypeError);
  });

  it('reads clean_up_tokenization_spaces from tokenizer_config.json and the decoder’s cleanup from tokenizer.json', async () => {
    const json = JSON.parse(readFileSync(path.join(uncasedDir, 'tokenizer.json'), 'utf8'));
    json.decoder.cleanup = false;
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'bert-embed-decode-')), 'variant');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(json));
    writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: true, clean_up_tokenization_spaces: false }));
    const variant = WordPieceTokenizer.fromModelDir(dir);
    expect(variant.config).toMatchObject({ decoderCleanup: false, cleanUpTokenizationSpaces: false });
    expect(tokenizer.config).toMatchObject({ decoderCleanup: true, cleanUpTokenizationSpaces: true });

    const ids = (await hfEncodeAll(loadHfTokenizer(path.join(dir, 'tokenizer.json')), ["Wait , what ? It's fine ."]))[0].ids;
    const hf = loadHfTokenizer(path.join(dir, 'tokenizer.json'));
    const transformers = await loadTransformersTokenizer(dir);
    expect(variant.decode(ids)).toBe(await hf.decode(ids, false));
    expect(variant.decode(ids)).toBe(transformers.decode(ids));
    expect(variant.decode(ids)).toBe("[CLS] wait , what ? it ' s fine . [SEP]");
    expect(variant.decode(ids, { cleanUpTokenizationSpaces: true })).toBe("[CLS] wait, what? it's fine. [SEP]");
  });

  it('takes both settings from a fromVocab config', () => {
    const plain = WordPieceTokenizer.fromVocab(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', '.'], { cleanUpTokenizationSpaces: false, decoderCleanup: false });
    expect(plain.decode([5, 6])).toBe('a .');
    expect(() => WordPieceTokenizer.fromVocab(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'], { decoderCleanup: 1 as unknown as boolean })).toThrow(
      'Expected boolean for config.decoderCleanup but received 1 of type number',
    );
  });

  it('cleans up as the Rust decoder (each piece) and transformers (the whole text) do', () => {
    expect(decodeWordPieces(['a', ',', 'b', '##c', "'", 's', 'do', 'not'], '##', true)).toBe("a, bc ' s do not");
    expect(decodeWordPieces(['a', ',', 'b'], '##', false)).toBe('a , b');
    expect(cleanUpTokenization("a , b . c ? d ! it ' s i 'm we 're they 've isn't")).toBe("a, b. c? d! it's i'm we're they've isn't");
  });
});
