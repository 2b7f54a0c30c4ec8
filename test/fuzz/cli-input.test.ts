// Properties of the CLI's input readers (lib/cli/input): any bytes in a text, JSONL, CSV or TSV file,
// with any combination of the input flags, give sentences with their places or an InputError /
// UsageError naming the problem, never anything else; and what a writer of each format writes
// reads back as written.
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvRecords, tsvRecords } from '../../lib/cli/input/csv.js';
import type { SourceLine } from '../../lib/cli/input/line-reader.js';
import { checkInputOptions, readSentences, type InputFormat, type InputOptions } from '../../lib/cli/input/sentences.js';
import { InputError, UsageError } from '../../lib/cli/usage-error.js';
import { expectDocumentedError, fuzzParameters, tempDir, wellFormedText } from './arbitraries.js';

let dir: string;
let remove: () => void;
let fileCount = 0;

beforeAll(() => ({ dir, remove } = tempDir('be-fuzz-input-')));
afterAll(() => remove?.());

function writeTemp(extension: string, bytes: Uint8Array | string): string {
  const file = path.join(dir, `input-${fileCount++}${extension}`);
  fs.writeFileSync(file, bytes);
  return file;
}

async function collect(sentences: AsyncIterable<SourceLine>): Promise<SourceLine[]> {
  const all: SourceLine[] = [];
  for await (const sentence of sentences) all.push(sentence);
  return all;
}

/** Lines as a writer would put them in a file: joined by LF or CRLF, with or without a last newline. */
const lineEnding = fc.constantFrom('\n', '\r\n');

// Bytes that make the parsers' decisions: quotes, separators, line ends, braces, invalid UTF-8.
const inputByte = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...Buffer.from('",\t\n\r{}[]:\\ a1|').values()) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 255 }) },
);
const inputBytes = fc.oneof(
  fc.array(inputByte, { maxLength: 120 }).map((bytes) => Uint8Array.from(bytes)),
  // Near-valid JSONL: records, some broken.
  fc.array(fc.oneof(fc.jsonValue().map((value) => JSON.stringify(value)), fc.dictionary(fc.constantFrom('text', 'a', 'b'), fc.jsonValue()).map((o) => JSON.stringify(o)), fc.string()), { maxLength: 6 }).map((lines) => Buffer.from(lines.join('\n'))),
);

const inputOptions: fc.Arbitrary<InputOptions> = fc.record(
  {
    inputFormat: fc.constantFrom<InputFormat>('text', 'jsonl', 'csv', 'tsv'),
    field: fc.constantFrom('text', 'a', ''),
    columns: fc.oneof(fc.array(fc.constantFrom('1', '2', '3', '0', 'a', 'text', 'b', ''), { minLength: 1, maxLength: 3 })),
    header: fc.boolean(),
    pairs: fc.boolean(),
    skipEmpty: fc.boolean(),
  },
  { requiredKeys: ['inputFormat'] },
);

describe('readSentences', () => {
  it('reads any file with any flags into sentences with their places, or an InputError / UsageError', async () => {
    await fc.assert(
      fc.asyncProperty(inputBytes, inputOptions, fc.constantFrom('.txt', '.jsonl', '.csv', '.tsv'), async (bytes, options, extension) => {
        const file = writeTemp(extension, bytes);
        let sentences: SourceLine[];
        try {
          checkInputOptions([file], options);
          sentences = await collect(readSentences([file], options));
        } catch (error) {
          expectDocumentedError(error, [InputError, UsageError]);
          if (error instanceof InputError) expect(error.message.startsWith(`${file}:`)).toBe(true);
          return;
        } finally {
          fs.rmSync(file);
        }
        let previous = 0;
        for (const { source, line, text } of sentences) {
          expect(source).toBe(file);
          expect(typeof text).toBe('string');
          if (!(Number.isInteger(line) && line > previous)) expect.fail(`line ${line} after line ${previous}`);
          previous = line;
          if (options.pairs) expect(text).toContain(' ||| ');
          if (options.skipEmpty) expect(text.trim()).not.toBe('');
        }
      }),
      fuzzParameters(300),
    );
  });

  it('reads back text lines as written', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(wellFormedText().map((text) => text.replace(/[\r\n]/g, ' ')), { minLength: 1, maxLength: 8 }), lineEnding, fc.boolean(), async (lines, newline, lastNewline) => {
        // A byte-order mark is dropped at the start of the file only (where an editor put it).
        const expected = lines.map((text, i) => (i === 0 && text.startsWith('\ufeff') ? text.slice(1) : text));
        if (!lastNewline && lines[lines.length - 1] === '' && lines.length > 0) expected.pop();
        const file = writeTemp('.txt', lines.join(newline) + (lastNewline ? newline : ''));
        const read = await collect(readSentences([file], {}));
        expect(read.map(({ text }) => text)).toEqual(expected);
        expect(read.map(({ line }) => line)).toEqual(expected.map((_, i) => i + 1));
      }),
      fuzzParameters(200),
    );
  });

  it('reads back any string written as a JSONL field', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ unit: 'binary', maxLength: 30 }), { minLength: 1, maxLength: 8 }), lineEnding, async (texts, newline) => {
        const file = writeTemp('.jsonl', texts.map((text) => JSON.stringify({ id: 1, text })).join(newline) + newline);
        const read = await collect(readSentences([file], { field: 'text' }));
        expect(read.map(({ text }) => text)).toEqual(texts);
      }),
      fuzzParameters(200),
    );
  });
});

/** Lines of a string, as readLines gives them (LF or CRLF). */
async function* linesOf(text: string): AsyncGenerator<SourceLine> {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let line = 0;
  for (const raw of lines) yield { source: 'mem', line: ++line, text: raw.endsWith('\r') ? raw.slice(0, -1) : raw };
}

/** RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled. */
function csvField(field: string): string {
  return /[",\r\n]/.test(field) || field === '' ? `"${field.replace(/"/g, '""')}"` : field;
}

describe('CSV and TSV records', () => {
  it('reads back any CSV that RFC 4180 writes', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Fields with quotes, commas and line breaks inside. Not CRLF inside a field: lines are read
        // with CRLF taken as LF, so a quoted CRLF reads back as LF (as in a text-mode reader).
        fc.array(
          fc.array(
            fc.string({ unit: fc.constantFrom('a', 'b', ' ', '"', ',', '\n', '\r', 'é', '中', '\t'), maxLength: 8 }).filter((field) => !field.includes('\r\n')),
            { minLength: 1, maxLength: 4 },
          ),
          { minLength: 1, maxLength: 5 },
        ),
        lineEnding,
        async (rows, newline) => {
          const text = rows.map((fields) => fields.map(csvField).join(',')).join(newline) + newline;
          const read = [];
          for await (const { fields } of csvRecords(linesOf(text))) read.push(fields);
          expect(read).toEqual(rows);
        },
      ),
      fuzzParameters(300),
    );
  });

  it('reads back any TSV of fields without tabs or line breaks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(wellFormedText(10).map((text) => text.replace(/[\t\r\n]/g, '_')), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 5 }),
        lineEnding,
        async (rows, newline) => {
          const read = [];
          for await (const { fields } of tsvRecords(linesOf(rows.map((fields) => fields.join('\t')).join(newline) + newline))) read.push(fields);
          expect(read).toEqual(rows);
        },
      ),
      fuzzParameters(200),
    );
  });
});
