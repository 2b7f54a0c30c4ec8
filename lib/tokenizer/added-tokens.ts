import { isWhitespaceCodePoint } from './char-classes.js';

export interface AddedTokenSpec {
  content: string;
  id: number;
  /** Absorb whitespace to the left of the token, as HF's `lstrip`. */
  lstrip: boolean;
  /** Absorb whitespace to the right of the token, as HF's `rstrip`. */
  rstrip: boolean;
  /** A special token (HF's `special`): left out when decoding with skipSpecialTokens. */
  special: boolean;
}

/**
 * A run of ordinary text starting at `start`, or an added token found whole in the raw text,
 * covering [start, end) with any whitespace its lstrip/rstrip absorbed.
 */
export type TextSection = { text: string; start: number } | { tokenId: number; start: number; end: number };

/**
 * Finds added (special) tokens in raw text before normalization, leftmost-longest, as HF's
 * AddedVocabulary does for tokens with `normalized: false`: "[MASK]" is kept whole but "[mask]"
 * is ordinary text (and becomes "[", "mask", "]").
 */
export class AddedTokenSplitter {
  private readonly tokensByFirstUnit = new Map<number, AddedTokenSpec[]>();

  constructor(tokens: readonly AddedTokenSpec[]) {
    for (const token of tokens) {
      if (token.content.length === 0) continue;
      const first = token.content.charCodeAt(0);
      const group = this.tokensByFirstUnit.get(first) ?? [];
      group.push(token);
      this.tokensByFirstUnit.set(first, group);
    }
    for (const group of this.tokensByFirstUnit.values()) {
      group.sort((a, b) => b.content.length - a.content.length);
    }
  }

  /** The sections of `text`, or null when it holds no added token (the common case, found cheaply). */
  split(text: string): TextSection[] | null {
    if (this.tokensByFirstUnit.size === 0) return null;
    let firstCandidate = -1;
    for (const first of this.tokensByFirstUnit.keys()) {
      const at = text.indexOf(String.fromCharCode(first));
      if (at >= 0 && (firstCandidate < 0 || at < firstCandidate)) firstCandidate = at;
    }
    if (firstCandidate < 0) return null;

    const sections: TextSection[] = [];
    let sectionStart = 0;
    let found = false;
    for (let i = firstCandidate; i < text.length; i++) {
      const group = this.tokensByFirstUnit.get(text.charCodeAt(i));
      if (group === undefined) continue;
      const match = group.find((token) => text.startsWith(token.content, i));
      if (match === undefined) continue;
      found = true;
      let before = i;
      if (match.lstrip) while (before > sectionStart && isWhitespaceCodePoint(text.charCodeAt(before - 1))) before--;
      if (before > sectionStart) sections.push({ text: text.slice(sectionStart, before), start: sectionStart });
      let after = i + match.content.length;
      if (match.rstrip) while (after < text.length && isWhitespaceCodePoint(text.charCodeAt(after))) after++;
      sections.push({ tokenId: match.id, start: before, end: after });
      sectionStart = after;
      i = after - 1;
    }
    if (!found) return null;
    if (sectionStart < text.length) sections.push({ text: text.slice(sectionStart), start: sectionStart });
    return sections;
  }
}
