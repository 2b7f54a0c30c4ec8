// Property: the WordPiece tokenizer takes any string (lone surrogates, controls, special-token text,
// ' ||| ', endless words) and gives an encoding whose ids are in the vocabulary, shaped as BERT
// needs, within maxLength; it never throws. Over the real vocabularies in ../shared/models.
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WordPieceTokenizer, type Encoding } from '../../lib/tokenizer/index.js';
import { buildChineseModelDir, modelsDir } from '../tokenizer/reference.js';
import { expectDocumentedError, fuzzParameters, hostileText } from './arbitraries.js';

const TOKENIZERS: [string, () => WordPieceTokenizer][] = [
  ['bert-base-uncased (tokenizer.json)', () => WordPieceTokenizer.fromModelDir(path.join(modelsDir, 'bert-base-uncased'))],
  ['all-MiniLM-L6-v2 (tokenizer.json)', () => WordPieceTokenizer.fromModelDir(path.join(modelsDir, 'all-MiniLM-L6-v2'))],
  ['bert-tiny (vocab.txt)', () => WordPieceTokenizer.fromModelDir(path.join(modelsDir, 'bert-tiny'))],
  ['bert-base-chinese (cased)', () => WordPieceTokenizer.fromModelDir(buildChineseModelDir())],
];

/** The shape every encoding has: [CLS] A [SEP] (B [SEP]), ids in range, type ids 0 then 1. */
function expectWellFormed(tokenizer: WordPieceTokenizer, encoding: Encoding, maxLength?: number): void {
  const { ids, tokens, typeIds } = encoding;
  expect(tokens).toHaveLength(ids.length);
  expect(typeIds).toHaveLength(ids.length);
  for (const id of ids) {
    if (!(Number.isInteger(id) && id >= 0 && id < tokenizer.vocabSize)) expect.fail(`id ${id} is outside [0, ${tokenizer.vocabSize})`);
  }
  ids.forEach((id, i) => expect(tokens[i]).toBe(tokenizer.idToToken(id)));
  expect(ids[0]).toBe(tokenizer.clsId);
  expect(ids[ids.length - 1]).toBe(tokenizer.sepId);
  const firstOne = typeIds.indexOf(1);
  expect(typeIds.every((t, i) => t === (firstOne >= 0 && i >= firstOne ? 1 : 0))).toBe(true);
  if (maxLength !== undefined) expect(ids.length).toBeLessThanOrEqual(Math.max(maxLength, firstOne >= 0 ? 3 : 2));
}

/** `encode()`, or the RangeError a maxLength too short for the special tokens gets (and nothing else). */
function encodeOrRefuse(encode: () => Encoding, maxLength: number | undefined, isPair: boolean): Encoding | undefined {
  if (maxLength === undefined || maxLength >= (isPair ? 3 : 2)) return encode();
  try {
    encode();
  } catch (error) {
    expectDocumentedError(error, [RangeError]);
    return undefined;
  }
  return expect.fail(`maxLength ${maxLength} is too short for the special tokens but was accepted`);
}

describe.each(TOKENIZERS)('%s', (_, load) => {
  const tokenizer = load();

  it('encodes any text, or pair, into ids of its vocabulary, within maxLength', () => {
    fc.assert(
      fc.property(hostileText(), fc.option(hostileText(40), { nil: undefined }), fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }), fc.boolean(), (text, pair, maxLength, splitPairs) => {
        const options = { ...(maxLength === undefined ? {} : { maxLength }), splitPairs };
        const isPair = pair !== undefined || (splitPairs && text.includes(' ||| '));
        const encoding = encodeOrRefuse(() => tokenizer.encode(text, pair, options), maxLength, isPair);
        if (!encoding) return;
        expectWellFormed(tokenizer, encoding, maxLength);
        // The offsets path gives the same ids, and offsets inside the text they point into.
        const withOffsets = tokenizer.encodeWithOffsets(text, pair, options);
        expect(withOffsets.ids).toEqual(encoding.ids);
        withOffsets.offsets.forEach(([start, end], i) => {
          const source = withOffsets.sequenceIds[i] === 1 && pair !== undefined ? pair : text;
          if (!(Number.isInteger(start) && start >= 0 && start <= end && end <= source.length)) expect.fail(`offsets[${i}] [${start}, ${end}] outside a text of ${source.length}`);
        });
        expect(typeof tokenizer.decode(encoding.ids)).toBe('string');
        expect(typeof tokenizer.decode(encoding.ids, { skipSpecialTokens: true, cleanUpTokenizationSpaces: false })).toBe('string');
        for (const piece of tokenizer.tokenize(text)) expect(tokenizer.tokenToId(piece)).toBeDefined();
      }),
      fuzzParameters(300),
    );
  });

  it('encodes any pretokenized input and any batch', () => {
    fc.assert(
      fc.property(
        fc.array(hostileText(12), { maxLength: 12 }),
        fc.option(fc.array(hostileText(12), { maxLength: 12 }), { nil: undefined }),
        fc.option(fc.integer({ min: 1, max: 16 }), { nil: undefined }),
        fc.array(fc.oneof(hostileText(30), fc.tuple(hostileText(20), hostileText(20))), { maxLength: 5 }),
        (tokens, pair, maxLength, batch) => {
          const options = maxLength === undefined ? undefined : { maxLength };
          const encoding = encodeOrRefuse(() => tokenizer.encodeTokenized(tokens, pair, options), maxLength, pair !== undefined);
          if (encoding) {
            expectWellFormed(tokenizer, encoding, maxLength);
            const withOffsets = tokenizer.encodeTokenizedWithOffsets(tokens, pair, options);
            expect(withOffsets.ids).toEqual(encoding.ids);
            expect(withOffsets.offsets).toHaveLength(withOffsets.ids.length);
          }
          const pairs = batch.some((input) => Array.isArray(input) || input.includes(' ||| '));
          // (an empty batch encodes nothing, so any maxLength passes)
          const batchLimit = batch.length === 0 ? undefined : maxLength;
          const encodings = encodeOrRefuse(() => tokenizer.encodeBatch(batch, options) as unknown as Encoding, batchLimit, pairs) as unknown as Encoding[] | undefined;
          if (encodings) {
            expect(encodings).toHaveLength(batch.length);
            for (const encoding of encodings) expectWellFormed(tokenizer, encoding, maxLength);
          }
        },
      ),
      fuzzParameters(200),
    );
  });

  it('decodes any list of ids', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: tokenizer.vocabSize + 10 }), { maxLength: 40 }), fc.boolean(), (ids, skipSpecialTokens) => {
        expect(typeof tokenizer.decode(ids, { skipSpecialTokens })).toBe('string');
      }),
      fuzzParameters(200),
    );
  });
});
