import { CharClass, charClassOf } from './char-classes.js';
import { type BertNormalizer, lowercaseCharacter, stripAccentsOverrideOf } from './normalizer.js';

/**
 * Normalized text with, for each of its UTF-16 units, the [start, end) range of the input
 * character it came from (UTF-16 offsets into the input, plus the `origin` given).
 */
export interface AlignedText {
  text: string;
  starts: number[];
  ends: number[];
}

/** Code points of a text being normalized, each with the input range it came from. */
interface AlignedCharacters {
  characters: string[];
  starts: number[];
  ends: number[];
}

function emptyAligned(): AlignedCharacters {
  return { characters: [], starts: [], ends: [] };
}

function pushAligned(into: AlignedCharacters, character: string, start: number, end: number): void {
  into.characters.push(character);
  into.starts.push(start);
  into.ends.push(end);
}

/**
 * The normalizer's output together with its alignment to the input, following HF tokenizers'
 * NormalizedString: a character that is replaced or expanded (lowercasing 'İ', NFD) keeps the
 * range of its source character, a removed one is gone, and the spaces put around a CJK ideograph
 * share its range. `text` is always what `normalizer.normalize` gives for the same input.
 */
export function normalizeWithAlignment(input: string, normalizer: BertNormalizer, origin: number): AlignedText {
  if (PLAIN_ASCII.test(input)) return alignPlainAscii(input, normalizer.lowercase, origin);
  let aligned = cleanAndSpaceIdeographs(input, normalizer.tokenizeChineseChars, origin);
  if (normalizer.stripAccents) aligned = decomposeAndDropMarks(aligned, origin);
  if (normalizer.lowercase) aligned = lowercaseEach(aligned);
  return perUtf16Unit(aligned);
}

/** Printable ASCII, tab, newline and carriage return: nothing to remove, decompose or expand. */
const PLAIN_ASCII = /^[\x20-\x7e\t\n\r]*$/;

/** The common case, one output unit per input unit: only whitespace becomes ' ' and letters lowercase. */
function alignPlainAscii(input: string, lowercase: boolean, origin: number): AlignedText {
  const spaced = input.replace(/[\t\n\r]/g, ' ');
  const starts: number[] = [];
  const ends: number[] = [];
  for (let i = 0; i < input.length; i++) {
    starts.push(origin + i);
    ends.push(origin + i + 1);
  }
  return { text: lowercase ? spaced.toLowerCase() : spaced, starts, ends };
}

/** clean_text (drop controls, every whitespace to ' '), then spaces around CJK ideographs. */
function cleanAndSpaceIdeographs(input: string, spaceIdeographs: boolean, origin: number): AlignedCharacters {
  const out = emptyAligned();
  for (let i = 0; i < input.length; ) {
    const cp = input.codePointAt(i)!; // a lone surrogate comes back as itself
    const end = i + (cp > 0xffff ? 2 : 1);
    const flags = charClassOf(cp);
    const start = origin + i;
    if (flags & CharClass.Removed) {
      // dropped: no output character points at it
    } else if (flags & CharClass.Whitespace) {
      pushAligned(out, ' ', start, origin + end);
    } else if (spaceIdeographs && flags & CharClass.ChineseIdeograph) {
      const ideograph = input.slice(i, end);
      pushAligned(out, ' ', start, origin + end);
      pushAligned(out, ideograph, start, origin + end);
      pushAligned(out, ' ', start, origin + end);
    } else {
      pushAligned(out, input.slice(i, end), start, origin + end);
    }
    i = end;
  }
  return out;
}

/** A character of the NFD output; `added` when it is not the first character of its source's decomposition. */
interface DecomposedCharacter {
  character: string;
  added: boolean;
  isMark: boolean;
}

/**
 * NFD, then drop the non-spacing marks. HF aligns NFD's output by position, not by source: each
 * output character that starts a decomposition takes the range of the next input character not
 * yet taken, and each further one the range of the last taken. With canonical reordering of marks
 * these can differ from the true source (a quirk kept here, as it decides the offsets).
 */
function decomposeAndDropMarks(input: AlignedCharacters, origin: number): AlignedCharacters {
  const decomposed: DecomposedCharacter[] = [];
  let runStart = 0;
  const { characters } = input;
  for (let k = 0; k <= characters.length; k++) {
    const override = k < characters.length ? stripAccentsOverrideOf(characters[k]) : undefined;
    if (k < characters.length && override === undefined) continue;
    // As in stripAccents: the overridden characters take HF's result and stay out of NFD.
    decomposeRun(characters, runStart, k, decomposed);
    if (override !== undefined) {
      [...override].forEach((character, i) => decomposed.push({ character, added: i > 0, isMark: false }));
    }
    runStart = k + 1;
  }

  const out = emptyAligned();
  let taken = 0;
  for (const { character, added, isMark } of decomposed) {
    let start: number;
    let end: number;
    if (!added) {
      start = input.starts[taken];
      end = input.ends[taken];
      taken++;
    } else if (taken > 0) {
      start = input.starts[taken - 1];
      end = input.ends[taken - 1];
    } else {
      start = origin; // HF's (0, 0) for a character added before any was taken
      end = origin;
    }
    if (!isMark) pushAligned(out, character, start, end);
  }
  return out;
}

/** Appends the NFD of characters[from, to), each output character marked as HF's nfd marks it. */
function decomposeRun(characters: string[], from: number, to: number, out: DecomposedCharacter[]): void {
  if (from >= to) return;
  const run = characters.slice(from, to).join('');
  const normalized = run.normalize('NFD');
  const isMark = (character: string) => (charClassOf(character.codePointAt(0)!) & CharClass.NonSpacingMark) !== 0;
  if (normalized === run) {
    // Nothing decomposed and nothing reordered: every character stands for itself.
    for (let k = from; k < to; k++) out.push({ character: characters[k], added: false, isMark: isMark(characters[k]) });
    return;
  }
  // Each character decomposed on its own, in text order, with HF's flags.
  const inTextOrder: DecomposedCharacter[] = [];
  const positionsByCharacter = new Map<string, number[]>();
  for (let k = from; k < to; k++) {
    [...characters[k].normalize('NFD')].forEach((character, i) => {
      const positions = positionsByCharacter.get(character) ?? [];
      positions.push(inTextOrder.length);
      positionsByCharacter.set(character, positions);
      inTextOrder.push({ character, added: i > 0, isMark: isMark(character) });
    });
  }
  // NFD's canonical reordering is a stable sort of marks by combining class, and equal characters
  // have equal classes, so the n-th occurrence of a character in the output is its n-th in text order.
  const nextOccurrence = new Map<string, number>();
  for (const character of normalized) {
    const n = nextOccurrence.get(character) ?? 0;
    nextOccurrence.set(character, n + 1);
    out.push(inTextOrder[positionsByCharacter.get(character)![n]]);
  }
}

/** Each character lowercased on its own; every character of a longer result keeps the source's range. */
function lowercaseEach(input: AlignedCharacters): AlignedCharacters {
  const out = emptyAligned();
  input.characters.forEach((character, k) => {
    for (const piece of lowercaseCharacter(character)) pushAligned(out, piece, input.starts[k], input.ends[k]);
  });
  return out;
}

function perUtf16Unit(aligned: AlignedCharacters): AlignedText {
  const starts: number[] = [];
  const ends: number[] = [];
  aligned.characters.forEach((character, k) => {
    for (let unit = 0; unit < character.length; unit++) {
      starts.push(aligned.starts[k]);
      ends.push(aligned.ends[k]);
    }
  });
  return { text: aligned.characters.join(''), starts, ends };
}
