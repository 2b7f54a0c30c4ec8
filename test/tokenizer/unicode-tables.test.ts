/**
 * Every code point (U+0000 to U+10FFFF, less surrogates) through each step of our normalizer and
 * pre-tokenizer and through HF tokenizers' own BertNormalizer and BertPreTokenizer: the results must
 * be identical, which pins HF's character tables whatever Unicode version this Node has.
 */
import { createRequire } from 'node:module';

import { describe, expect, it } from 'vitest';

import { BertNormalizer, lowercasePerCharacter, stripAccents } from '../../lib/tokenizer/normalizer.js';
import { forEachPreToken } from '../../lib/tokenizer/pre-tokenizer.js';

const require = createRequire(import.meta.url);
const hf = require('tokenizers') as typeof import('tokenizers');

function* allCodePoints(): Generator<string> {
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue; // HF (Rust) strings cannot hold them
    yield String.fromCodePoint(cp);
  }
}

interface Step {
  name: string;
  hf: (text: string) => string;
  ours: (text: string) => string;
  /** Wraps the character so removal, spacing and splitting show in the result. */
  frame: (ch: string) => string;
}

const onlyStep = (options: { cleanText?: boolean; handleChineseChars?: boolean; stripAccents?: boolean; lowercase?: boolean }) =>
  hf.bertNormalizer({ cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false, ...options });

const hfPreTokenizer = hf.bertPreTokenizer();
function ourPreTokens(text: string): string {
  const words: string[] = [];
  forEachPreToken(text, (word) => {
    words.push(word);
    return false;
  });
  return words.join('|');
}

const hfClean = onlyStep({ cleanText: true });
const hfCleanAndSpace = onlyStep({ cleanText: true, handleChineseChars: true });
const hfStrip = onlyStep({ stripAccents: true });
const hfLowercase = onlyStep({ lowercase: true });
const ourClean = new BertNormalizer({ lowercase: false, stripAccents: false, tokenizeChineseChars: false });
const ourCleanAndSpace = new BertNormalizer({ lowercase: false, stripAccents: false, tokenizeChineseChars: true });

const STEPS: Step[] = [
  {
    name: 'clean_text (removal of controls, whitespace to spaces)',
    hf: (text) => hfClean.normalizeString(text),
    ours: (text) => ourClean.normalize(text),
    frame: (ch) => `x${ch}x`,
  },
  {
    name: 'clean_text and handle_chinese_chars',
    hf: (text) => hfCleanAndSpace.normalizeString(text),
    ours: (text) => ourCleanAndSpace.normalize(text),
    frame: (ch) => `x${ch}x`,
  },
  { name: 'strip_accents (NFD, drop Mn)', hf: (text) => hfStrip.normalizeString(text), ours: stripAccents, frame: (ch) => `${ch}` },
  { name: 'lowercase', hf: (text) => hfLowercase.normalizeString(text), ours: lowercasePerCharacter, frame: (ch) => `A${ch}` },
  {
    name: 'BertPreTokenizer (whitespace and punctuation splits)',
    hf: (text) => hfPreTokenizer.preTokenizeString(text).map(([word]) => word).join('|'),
    ours: ourPreTokens,
    frame: (ch) => `a${ch}b`,
  },
];

describe('HF character tables, every code point', () => {
  it.each(STEPS)('$name', ({ name, hf: reference, ours, frame }) => {
    const mismatches: string[] = [];
    let compared = 0;
    for (const ch of allCodePoints()) {
      const text = frame(ch);
      compared++;
      if (reference(text) !== ours(text)) mismatches.push(`U+${ch.codePointAt(0)!.toString(16).toUpperCase()}`);
    }
    console.log(`[tokenizer parity] ${name}: ${compared} code points compared, ${mismatches.length} mismatches`);
    expect(mismatches.slice(0, 20)).toEqual([]);
  });
});
