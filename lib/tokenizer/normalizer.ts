import { CharClass, charClassOf } from './char-classes.js';
import { HF_LOWERCASE_OVERRIDES, HF_STRIP_ACCENTS_OVERRIDES } from './hf-unicode-tables.js';

export interface NormalizerOptions {
  lowercase: boolean;
  /** null follows `lowercase`, as HF's BertNormalizer does. */
  stripAccents: boolean | null;
  tokenizeChineseChars: boolean;
}

const CAPITAL_SIGMA = 'Σ';
const SMALL_SIGMA = 'σ';

/**
 * HF's BertNormalizer, step for step in the order of tokenizers' normalizers/bert.rs:
 * clean text, space out CJK ideographs, strip accents, then lowercase.
 */
export class BertNormalizer {
  readonly lowercase: boolean;
  readonly stripAccents: boolean;
  readonly tokenizeChineseChars: boolean;

  constructor(options: NormalizerOptions) {
    this.lowercase = options.lowercase;
    this.stripAccents = options.stripAccents ?? options.lowercase;
    this.tokenizeChineseChars = options.tokenizeChineseChars;
  }

  normalize(text: string): string {
    let normalized = this.cleanAndSpaceIdeographs(text);
    if (this.stripAccents) normalized = stripAccents(normalized);
    if (this.lowercase) normalized = lowercasePerCharacter(normalized);
    return normalized;
  }

  /** One pass that copies unchanged runs as slices and only rebuilds around characters that change. */
  private cleanAndSpaceIdeographs(text: string): string {
    const spaceIdeographs = this.tokenizeChineseChars;
    let output = '';
    let runStart = 0;
    for (let i = 0; i < text.length; i++) {
      const cp = text.codePointAt(i)!; // a lone surrogate comes back as itself
      const width = cp > 0xffff ? 2 : 1;
      if (cp < 0x7f && cp >= 0x20) continue;
      const flags = charClassOf(cp);
      if (flags & CharClass.Removed) {
        output += text.slice(runStart, i);
        runStart = i + width;
      } else if (flags & CharClass.Whitespace) {
        if (cp !== 0x20) {
          output += text.slice(runStart, i) + ' ';
          runStart = i + width;
        }
      } else if (spaceIdeographs && flags & CharClass.ChineseIdeograph) {
        output += text.slice(runStart, i) + ' ' + text.slice(i, i + width) + ' ';
        runStart = i + width;
      }
      i += width - 1;
    }
    return runStart === 0 ? text : output + text.slice(runStart);
  }
}

function overridePattern(overrides: Readonly<Record<string, string>>, extra: string[] = []): RegExp | null {
  const characters = [...Object.keys(overrides).map((hex) => String.fromCodePoint(parseInt(hex, 16))), ...extra];
  if (characters.length === 0) return null;
  const escaped = characters.map((ch) => ch.replace(/[\\^\]\-]/g, '\\$&'));
  return new RegExp(`([${escaped.join('')}])`, 'u');
}

function overrideMap(overrides: Readonly<Record<string, string>>): Map<string, string> {
  return new Map(Object.entries(overrides).map(([hex, text]) => [String.fromCodePoint(parseInt(hex, 16)), text]));
}

const STRIP_OVERRIDES = overrideMap(HF_STRIP_ACCENTS_OVERRIDES);
const STRIP_OVERRIDE_PATTERN = overridePattern(HF_STRIP_ACCENTS_OVERRIDES);

/** NFD then drop non-spacing marks (HF's Mn table); ASCII-only text cannot change, so it skips the work. */
export function stripAccents(text: string): string {
  if (isAscii(text)) return text;
  // Characters this Node decomposes differently from HF take HF's result and stay out of NFD.
  if (STRIP_OVERRIDE_PATTERN !== null && STRIP_OVERRIDE_PATTERN.test(text)) {
    return text
      .split(STRIP_OVERRIDE_PATTERN)
      .map((piece, i) => (i % 2 === 0 ? decomposeAndDropMarks(piece) : STRIP_OVERRIDES.get(piece)!))
      .join('');
  }
  return decomposeAndDropMarks(text);
}

function decomposeAndDropMarks(text: string): string {
  const decomposed = text.normalize('NFD');
  let output = '';
  let runStart = 0;
  for (let i = 0; i < decomposed.length; i++) {
    if (decomposed.charCodeAt(i) < 0x300) continue; // no mark comes before U+0300
    const cp = decomposed.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    if (charClassOf(cp) & CharClass.NonSpacingMark) {
      output += decomposed.slice(runStart, i);
      runStart = i + width;
    }
    i += width - 1;
  }
  return runStart === 0 ? decomposed : output + decomposed.slice(runStart);
}

const LOWERCASE_SPECIAL = new Map([[CAPITAL_SIGMA, SMALL_SIGMA], ...overrideMap(HF_LOWERCASE_OVERRIDES)]);
const LOWERCASE_SPECIAL_PATTERN = overridePattern(HF_LOWERCASE_OVERRIDES, [CAPITAL_SIGMA])!;

/**
 * Lowercase each character on its own as Rust's char::to_lowercase does. String.prototype.toLowerCase
 * differs by the context rule for a final capital sigma (Σ → ς), which HF does not apply (always σ),
 * and by any character whose mapping this Node's Unicode version changed.
 */
export function lowercasePerCharacter(text: string): string {
  if (!LOWERCASE_SPECIAL_PATTERN.test(text)) return text.toLowerCase();
  // split with a capture group alternates ordinary runs (even) and special characters (odd).
  return text
    .split(LOWERCASE_SPECIAL_PATTERN)
    .map((piece, i) => (i % 2 === 0 ? piece.toLowerCase() : LOWERCASE_SPECIAL.get(piece)!))
    .join('');
}

/** HF's strip_accents result for a character this Node decomposes differently, else undefined. */
export function stripAccentsOverrideOf(character: string): string | undefined {
  return STRIP_OVERRIDES.get(character);
}

/** One character lowercased on its own, as Rust's char::to_lowercase (see lowercasePerCharacter). */
export function lowercaseCharacter(character: string): string {
  return LOWERCASE_SPECIAL.get(character) ?? character.toLowerCase();
}

const NON_ASCII = /[^\x00-\x7f]/;

export function isAscii(text: string): boolean {
  return !NON_ASCII.test(text);
}
