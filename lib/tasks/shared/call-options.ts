/** The check every text-taking task shares: its texts' types, before anything is queued (options: task-options.ts). */
import { fieldError } from '../../validation.js';

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
