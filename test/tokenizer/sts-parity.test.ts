/**
 * Every STS-B sentence (train, dev, test; both columns), alone, as explicit pairs, as 'A ||| B' and
 * truncated, through our tokenizer and the references, for three vocabularies: ids and type ids must
 * be identical.
 */
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { WordPieceTokenizer } from '../../lib/tokenizer/index.js';
import {
  type HfInput,
  type HfTokenizer,
  type ReferenceEncoding,
  buildChineseModelDir,
  compareEncodings,
  hfEncodeAll,
  loadHfTokenizer,
  loadTransformersTokenizer,
  modelsDir,
  readStsBenchmark,
  transformersEncode,
} from './reference.js';

const pairs = readStsBenchmark();
const sentences = pairs.flatMap((pair) => [pair.first, pair.second]);

const MODELS = [
  { name: 'bert-base-uncased', dir: () => path.join(modelsDir, 'bert-base-uncased') },
  { name: 'all-MiniLM-L6-v2', dir: () => path.join(modelsDir, 'all-MiniLM-L6-v2') },
  { name: 'bert-base-chinese (cased, tokenizer.json built from vocab.txt)', dir: buildChineseModelDir },
];

const PAIR_MAX_LENGTHS = [3, 4, 5, 6, 7, 8, 11, 16, 24, 32];
const SINGLE_MAX_LENGTHS = [2, 3, 4, 5, 8, 16];

function ours(encoding: { ids: number[]; typeIds: number[] }): ReferenceEncoding {
  return { ids: encoding.ids, typeIds: encoding.typeIds };
}

function report(label: string, compared: number, mismatches: unknown[]): void {
  console.log(`[tokenizer parity] ${label}: ${compared} compared, ${mismatches.length} mismatches`);
}

it('reads all of STS-B', () => {
  expect(pairs.length).toBe(5749 + 1500 + 1379);
  expect(sentences.every((sentence) => sentence.length > 0)).toBe(true);
});

describe.each(MODELS)('$name on STS-B', ({ name, dir: makeDir }) => {
  let modelDir: string;
  let tokenizer: WordPieceTokenizer;
  let hf: HfTokenizer;
  let transformers: Awaited<ReturnType<typeof loadTransformersTokenizer>>;

  beforeAll(async () => {
    modelDir = makeDir();
    tokenizer = WordPieceTokenizer.fromModelDir(modelDir);
    hf = loadHfTokenizer(path.join(modelDir, 'tokenizer.json'));
    transformers = await loadTransformersTokenizer(modelDir);
  });

  it('gives the ids of HF tokenizers and transformers.js for every sentence', async () => {
    const actual = sentences.map((sentence) => ours(tokenizer.encode(sentence)));
    const fromHf = await hfEncodeAll(hf, sentences);
    const fromTransformers = sentences.map((sentence) => transformersEncode(transformers, sentence));
    const hfMismatches = compareEncodings(sentences, fromHf, actual);
    const transformersMismatches = compareEncodings(sentences, fromTransformers, actual);
    report(`${name}, sentences vs HF tokenizers`, sentences.length, hfMismatches);
    report(`${name}, sentences vs transformers.js`, sentences.length, transformersMismatches);
    expect(hfMismatches.slice(0, 3)).toEqual([]);
    expect(transformersMismatches.slice(0, 3)).toEqual([]);
  });

  it('gives the ids and type ids of both references for every pair, explicit or written A ||| B', async () => {
    const inputs: HfInput[] = pairs.map(({ first, second }) => [first, second]);
    const explicit = pairs.map(({ first, second }) => ours(tokenizer.encode(first, second)));
    const joined = pairs.map(({ first, second }) => ours(tokenizer.encode(`${first} ||| ${second}`)));
    const fromHf = await hfEncodeAll(hf, inputs);
    const fromTransformers = pairs.map(({ first, second }) => transformersEncode(transformers, first, second));
    const mismatches = {
      'explicit pairs vs HF tokenizers': compareEncodings(inputs, fromHf, explicit),
      'explicit pairs vs transformers.js': compareEncodings(inputs, fromTransformers, explicit),
      "'A ||| B' pairs vs HF tokenizers": compareEncodings(inputs, fromHf, joined),
    };
    for (const [label, found] of Object.entries(mismatches)) report(`${name}, ${label}`, inputs.length, found);
    for (const found of Object.values(mismatches)) expect(found.slice(0, 3)).toEqual([]);
    expect(explicit.every((encoding) => encoding.typeIds.includes(1))).toBe(true);
  });

  it('truncates pairs longest-first as HF tokenizers does, at every maxLength', async () => {
    const inputs: HfInput[] = pairs.map(({ first, second }) => [first, second]);
    let compared = 0;
    const mismatches = [];
    for (const maxLength of PAIR_MAX_LENGTHS) {
      const actual = pairs.map(({ first, second }) => ours(tokenizer.encode(first, second, { maxLength })));
      const expected = await hfEncodeAll(hf, inputs, maxLength);
      mismatches.push(...compareEncodings(inputs, expected, actual).map((found) => ({ maxLength, ...found })));
      compared += inputs.length;
      expect(actual.every((encoding) => encoding.ids.length <= maxLength)).toBe(true);
    }
    report(`${name}, truncated pairs (maxLength ${PAIR_MAX_LENGTHS.join('/')}) vs HF tokenizers`, compared, mismatches);
    expect(mismatches.slice(0, 3)).toEqual([]);
  });

  it('truncates single sentences as HF tokenizers does, at every maxLength', async () => {
    let compared = 0;
    const mismatches = [];
    for (const maxLength of SINGLE_MAX_LENGTHS) {
      const actual = sentences.map((sentence) => ours(tokenizer.encode(sentence, undefined, { maxLength })));
      const expected = await hfEncodeAll(hf, sentences, maxLength);
      mismatches.push(...compareEncodings(sentences, expected, actual).map((found) => ({ maxLength, ...found })));
      compared += sentences.length;
    }
    report(`${name}, truncated sentences (maxLength ${SINGLE_MAX_LENGTHS.join('/')}) vs HF tokenizers`, compared, mismatches);
    expect(mismatches.slice(0, 3)).toEqual([]);
  });
});
