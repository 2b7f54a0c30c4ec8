import { CharClass, charClassOf } from './char-classes.js';

/**
 * HF's BertPreTokenizer: split on whitespace (dropped) and punctuation (each character its own
 * pre-token). Calls `visit` with each pre-token and where it starts in `text`, in order, rather
 * than building an array, and stops early when `visit` returns true.
 */
export function forEachPreToken(text: string, visit: (word: string, start: number) => boolean): void {
  let wordStart = -1;
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i)!; // a lone surrogate comes back as itself
    const width = cp > 0xffff ? 2 : 1;
    const flags = charClassOf(cp);
    if (flags & (CharClass.Whitespace | CharClass.Punctuation)) {
      if (wordStart >= 0) {
        if (visit(text.slice(wordStart, i), wordStart)) return;
        wordStart = -1;
      }
      if (flags & CharClass.Punctuation && visit(text.slice(i, i + width), i)) return;
    } else if (wordStart < 0) {
      wordStart = i;
    }
    i += width - 1;
  }
  if (wordStart >= 0) visit(text.slice(wordStart), wordStart);
}
