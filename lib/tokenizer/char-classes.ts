import { HF_NON_SPACING_MARK_RANGES, HF_PUNCTUATION_RANGES, HF_REMOVED_RANGES } from './hf-unicode-tables.js';

/**
 * Character classes with Hugging Face's BERT definitions (tokenizers' normalizers/bert.rs and
 * pre_tokenizers/bert.rs). Each code point is looked up once, then read from a cache table.
 */

export const CharClass = {
  /** Removed by clean_text: U+0000, U+FFFD and controls (Cc, Cf, Co, Cs) other than \t \n \r. */
  Removed: 1,
  /** Unicode White_Space: a space after clean_text (unless also Removed), a split for the pre-tokenizer. */
  Whitespace: 2,
  /** Its own pre-token: Unicode P* plus the ASCII symbols 33-47, 58-64, 91-96, 123-126. */
  Punctuation: 4,
  /** CJK ideograph that gets spaces around it when tokenize_chinese_chars is on. */
  ChineseIdeograph: 8,
  /** Non-spacing mark (Mn), dropped by strip_accents after NFD. */
  NonSpacingMark: 16,
} as const;

const COMPUTED = 128;

/** Sorted inclusive [start, end] pairs from a generated range list. */
function parseRanges(encoded: string): Uint32Array {
  const parts = encoded.split(',');
  const bounds = new Uint32Array(parts.length * 2);
  parts.forEach((part, i) => {
    const [start, end = start] = part.split('-');
    bounds[2 * i] = parseInt(start, 16);
    bounds[2 * i + 1] = parseInt(end, 16);
  });
  return bounds;
}

function inRanges(bounds: Uint32Array, cp: number): boolean {
  let low = 0;
  let high = bounds.length / 2 - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (cp < bounds[2 * middle]) high = middle - 1;
    else if (cp > bounds[2 * middle + 1]) low = middle + 1;
    else return true;
  }
  return false;
}

// HF's own tables (see scripts/generate-unicode-tables.mjs), not V8's \p{…}: HF's come from an older
// Unicode version, and matching them is what makes the ids identical.
const REMOVED = parseRanges(HF_REMOVED_RANGES);
const PUNCTUATION = parseRanges(HF_PUNCTUATION_RANGES);
const NON_SPACING_MARKS = parseRanges(HF_NON_SPACING_MARK_RANGES);

/** Rust's char::is_whitespace (the White_Space property), which HF uses for both cleaning and splitting. */
export function isWhitespaceCodePoint(cp: number): boolean {
  return (
    (cp >= 0x09 && cp <= 0x0d) ||
    cp === 0x20 ||
    cp === 0x85 ||
    cp === 0xa0 ||
    cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x202f ||
    cp === 0x205f ||
    cp === 0x3000
  );
}

export function isAsciiPunctuation(cp: number): boolean {
  return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
}

/**
 * The CJK ranges of HF tokenizers' BertNormalizer (CJK Unified Ideographs, extensions A to E,
 * compatibility ideographs). HF's Rust code starts extension E at U+2B920 where Google's BERT and
 * Python's BertTokenizer start at U+2B820; the 256 code points between are kept as HF's fast
 * tokenizers (and tokenizer.json files) treat them: not spaced out.
 */
export function isChineseIdeograph(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

function computeClass(cp: number): number {
  let flags = 0;
  // \v \f and U+0085 are both: clean_text removes them (it tests removal first), the pre-tokenizer splits on them.
  if (inRanges(REMOVED, cp)) flags |= CharClass.Removed;
  if (isWhitespaceCodePoint(cp)) flags |= CharClass.Whitespace;
  if (inRanges(PUNCTUATION, cp)) flags |= CharClass.Punctuation;
  if (isChineseIdeograph(cp)) flags |= CharClass.ChineseIdeograph;
  if (inRanges(NON_SPACING_MARKS, cp)) flags |= CharClass.NonSpacingMark;
  return flags;
}

const bmpClasses = new Uint8Array(0x10000);
const astralClasses = new Map<number, number>();

/** Bit set of {@link CharClass} flags for a code point (lone surrogates included: they are Cs). */
export function charClassOf(cp: number): number {
  if (cp < 0x10000) {
    const cached = bmpClasses[cp];
    if (cached !== 0) return cached & ~COMPUTED;
    const flags = computeClass(cp);
    bmpClasses[cp] = flags | COMPUTED;
    return flags;
  }
  let flags = astralClasses.get(cp);
  if (flags === undefined) {
    flags = computeClass(cp);
    astralClasses.set(cp, flags);
  }
  return flags;
}
