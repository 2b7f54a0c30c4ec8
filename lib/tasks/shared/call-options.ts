/** The checks every text-taking task shares: its options object, and its texts' types, before anything is queued. */
import { assertBoolean, checkPlainObject, expectationMessage, rejectUnknownOptions, fieldError } from '../../validation.js';

/** The options every text-taking call shares. */
export const COMMON_CALL_OPTION_NAMES = ['isTokenized', 'splitPairs', 'signal'] as const;

export interface CallOptions {
  callOptions: Record<string, unknown>;
  isTokenized: boolean;
  splitPairs: boolean;
  signal: AbortSignal | undefined;
}

/** Known names only; isTokenized, splitPairs and signal checked. */
export function readCallOptions(method: string, options: unknown, known: readonly string[]): CallOptions {
  const callOptions = checkPlainObject('options', options);
  rejectUnknownOptions(method, callOptions, known);
  const isTokenized = callOptions.isTokenized ?? false;
  assertBoolean('isTokenized', isTokenized);
  const splitPairs = callOptions.splitPairs ?? true;
  assertBoolean('splitPairs', splitPairs);
  const signal = callOptions.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw fieldError(TypeError, 'signal', 'AbortSignal', signal);
  return { callOptions, isTokenized, splitPairs, signal };
}

/** A boolean option with its default. */
export function booleanOption(callOptions: Record<string, unknown>, name: string, byDefault: boolean): boolean {
  const value = callOptions[name] ?? byDefault;
  assertBoolean(name, value);
  return value;
}

/** Checks every input's type up front, so that a call fails whole before any of it is queued. */
export function checkTexts(texts: unknown, isTokenized: boolean): asserts texts is (string | string[])[] {
  if (!Array.isArray(texts)) {
    throw fieldError(TypeError, 'texts', isTokenized ? 'array of token arrays' : 'array of strings', texts);
  }
  for (let i = 0; i < texts.length; i++) {
    const text: unknown = texts[i];
    if (isTokenized) {
      if (!Array.isArray(text) || text.some((token) => typeof token !== 'string')) {
        throw fieldError(TypeError, `texts[${i}]`, 'array of strings (isTokenized)', text);
      }
    } else if (typeof text !== 'string') {
      throw fieldError(TypeError, `texts[${i}]`, 'string', text);
    }
  }
}
