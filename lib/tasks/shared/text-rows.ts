/** A text (or a pre-split token list) as the model sees it: tokenized, cut to maxSeqLen, with [CLS]/[SEP] as the options say. */
import type { Encoding, EncodingWithOffsets } from '../../tokenizer/index.js';
import { fieldError } from '../../validation.js';
import { inputTooLong } from './input-too-long.js';
import type { TaskContext } from './task-context.js';

export type TextInput = string | string[];

export function tokenizeText(context: TaskContext, text: TextInput, isTokenized: boolean, splitPairs = true): Encoding {
  const options = { maxLength: context.maxTokens, addSpecialTokens: context.options.specialTokens };
  if (isTokenized) return context.tokenizer.encodeTokenized(text as string[], undefined, options);
  return context.tokenizer.encode(text as string, undefined, { ...options, splitPairs });
}

export function tokenizeWithOffsets(context: TaskContext, text: TextInput, isTokenized: boolean, splitPairs = true): EncodingWithOffsets {
  const options = { maxLength: context.maxTokens, addSpecialTokens: context.options.specialTokens };
  if (isTokenized) return context.tokenizer.encodeTokenizedWithOffsets(text as string[], undefined, options);
  return context.tokenizer.encodeWithOffsets(text as string, undefined, { ...options, splitPairs });
}

/** The text's token count before maxSeqLen cuts it. */
function fullLength(context: TaskContext, text: TextInput, isTokenized: boolean, splitPairs: boolean): number {
  const options = { addSpecialTokens: context.options.specialTokens };
  const full = isTokenized
    ? context.tokenizer.encodeTokenized(text as string[], undefined, options)
    : context.tokenizer.encode(text as string, undefined, { ...options, splitPairs });
  return full.ids.length;
}

/** Whether maxSeqLen cuts the text. */
export function isTruncated(context: TaskContext, text: TextInput, isTokenized: boolean, splitPairs: boolean): boolean {
  return fullLength(context, text, isTokenized, splitPairs) > context.maxTokens;
}

/** `truncate: false`: refuses, by name, the first text maxSeqLen would cut. */
export function refuseTextsTooLong(context: TaskContext, texts: readonly TextInput[], isTokenized: boolean, splitPairs: boolean): void {
  texts.forEach((text, i) => {
    const length = fullLength(context, text, isTokenized, splitPairs);
    if (length > context.maxTokens) throw inputTooLong(`texts[${i}]`, length, context.maxTokens);
  });
}

/** Without [CLS]/[SEP] an empty text has no token at all, and a forward pass needs one: refused up front, by name. */
export function checkEveryTextHasTokens(context: TaskContext, texts: readonly TextInput[], isTokenized: boolean, splitPairs: boolean): void {
  if (context.options.specialTokens) return;
  texts.forEach((text, i) => {
    if (tokenizeText(context, text, isTokenized, splitPairs).ids.length > 0) return;
    throw fieldError(RangeError, `texts[${i}]`, 'a text with at least one token (specialTokens is false)', text);
  });
}
