/**
 * Inputs of rerank() and classify(): checked up front (a call fails whole before anything is queued),
 * and tokenized as sentence-transformers' CrossEncoder and transformers' pipeline tokenize them.
 */
import type { Encoding, WordPieceTokenizer } from '../../tokenizer/index.js';
import { inputTooLong } from './input-too-long.js';
import { fieldError } from '../../validation.js';

/** A text, or a [textA, textB] pair. */
export type ClassifyInput = string | [string, string];

export interface PairEncoding {
  encoding: Encoding;
  /** maxTokens cut the input */
  truncated: boolean;
}

export function checkQueryAndDocuments(query: unknown, documents: unknown): asserts documents is string[] {
  if (typeof query !== 'string') throw fieldError(TypeError, 'query', 'string', query);
  if (!Array.isArray(documents) || documents.length === 0) throw fieldError(TypeError, 'documents', 'non-empty array of strings', documents);
  documents.forEach((document: unknown, i) => {
    if (typeof document !== 'string') throw fieldError(TypeError, `documents[${i}]`, 'string', document);
  });
}

export function checkClassifyInputs(inputs: unknown): asserts inputs is ClassifyInput[] {
  if (!Array.isArray(inputs) || inputs.length === 0) throw fieldError(TypeError, 'inputs', 'non-empty array of texts or [textA, textB] pairs', inputs);
  inputs.forEach((input: unknown, i) => {
    if (typeof input === 'string') return;
    if (Array.isArray(input) && input.length === 2 && typeof input[0] === 'string' && typeof input[1] === 'string') return;
    throw fieldError(TypeError, `inputs[${i}]`, 'string or [string, string] pair', input);
  });
}

/**
 * Tokenizes a text or a pair (CrossEncoder.predict and the pipeline call the tokenizer with
 * truncation=True: longest_first for pairs) and says whether maxTokens cut it. With `truncate`
 * false a cut input is refused, naming `field`.
 */
export function encodePair(
  tokenizer: WordPieceTokenizer,
  first: string,
  second: string | undefined,
  { maxTokens, specialTokens, truncate, field }: { maxTokens: number; specialTokens: boolean; truncate: boolean; field: string },
): PairEncoding {
  const options = { addSpecialTokens: specialTokens, splitPairs: false };
  const full = tokenizer.encode(first, second, options);
  const truncated = full.ids.length > maxTokens;
  if (truncated && !truncate) {
    throw inputTooLong(field, full.ids.length, maxTokens);
  }
  // Without [CLS]/[SEP] (specialTokens false) an empty text has no token at all, and a forward pass needs one.
  if (full.ids.length === 0) throw fieldError(RangeError, field, 'a text with at least one token (specialTokens is false)', second === undefined ? first : [first, second]);
  return { encoding: truncated ? tokenizer.encode(first, second, { ...options, maxLength: maxTokens }) : full, truncated };
}
