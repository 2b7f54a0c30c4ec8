// What the property-based tests (fast-check) share: run counts, hostile text, and the check that a
// thrown value is one of the documented errors.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { expect } from 'vitest';

/**
 * Runs per property: bounded so that the suite stays fast. FUZZ_RUNS raises it for a longer hunt;
 * FUZZ_SEED replays a run (fast-check prints the seed and path of any failure).
 */
export function fuzzParameters<T>(numRuns = 300): fc.Parameters<T> {
  const runs = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : numRuns;
  return { numRuns: runs, ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}) };
}

/** Characters that have broken tokenizers and parsers: each class BERT's normalizer treats apart. */
const AWKWARD = [
  ' ||| ', '|||', '[CLS]', '[SEP]', '[MASK]', '[UNK]', '[PAD]', '##', ' ', '\t', '\n', '\r', '\r\n', '\u0000', '\u0007', '\u007f', '\u00a0', '\u2028', '\u3000',
  '\u200b', '\u200d', '\ufeff', '\ufffd', '\u0301', '\u0308', 'é', 'É', 'ß', 'İ', 'ﬁ', 'Å', '中', '文', '𠀋', '😀', '👩‍👩‍👧', '🇫🇷', 'ا', 'ह', '\ud800', '\udfff', '"', ',',
  '\\', '{', '}', '.', '-', "'", 'a', 'Z', '0',
];

/** One UTF-16 unit or code point of any kind, lone surrogates included. */
const unit = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...AWKWARD) },
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)) },
);

/** Any JavaScript string, biased towards the characters that matter to BERT's tokenizer. */
export function hostileText(maxLength = 80): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.string({ unit, maxLength }) },
    // A word longer than WordPiece's 100-character limit.
    { weight: 1, arbitrary: fc.tuple(fc.string({ unit: 'grapheme-ascii', maxLength: 3 }), fc.integer({ min: 95, max: 130 })).map(([s, n]) => `${s}${'x'.repeat(n)}`) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength }) },
  );
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Text that survives a round trip through UTF-8 (no lone surrogates). */
export function wellFormedText(maxLength = 40): fc.Arbitrary<string> {
  return fc.string({ unit: fc.oneof(unit, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength }).filter((text) => !LONE_SURROGATE.test(text));
}

/** A fresh temp directory, removed with the returned function. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Fails unless `thrown` is an instance of one of `classes` with a non-empty message (and, if given, one of `codes`). */
export function expectDocumentedError(thrown: unknown, classes: (abstract new (...args: never[]) => Error)[], codes?: readonly string[]): void {
  const description = thrown instanceof Error ? `${thrown.name}: ${thrown.message}\n${thrown.stack}` : `a thrown ${typeof thrown}: ${String(thrown)}`;
  if (!classes.some((kind) => thrown instanceof kind)) expect.fail(`expected ${classes.map((kind) => kind.name).join(' or ')}, got ${description}`);
  const error = thrown as Error & { code?: unknown };
  expect(error.message, description).toMatch(/\S/);
  if (codes) expect(codes, description).toContain(error.code);
}
