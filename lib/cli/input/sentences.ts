/**
 * The sentences a command reads: from text files (a line each), JSONL (`--field`), CSV/TSV
 * (`--column`, once, or twice for a pair), or stdin ('-'); each with the place it came from.
 */
import { PAIR_SEPARATOR } from '../../tasks/index.js';
import { InputError, UsageError } from '../usage-error.js';
import { csvRecords, tsvRecords, type SourceRecord } from './csv.js';
import { readLines, type ByteRange, type SourceLine } from './line-reader.js';

export const INPUT_FORMATS = ['text', 'jsonl', 'csv', 'tsv'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

export interface InputOptions {
  /** overrides the format guessed from each file's name */
  inputFormat?: InputFormat;
  field?: string;
  /** column names or 1-based numbers; two make a sentence pair */
  columns?: string[];
  /** with numbered columns: the first row is a header to skip */
  header?: boolean;
  /** every sentence must be a pair, 'A ||| B' */
  pairs?: boolean;
  skipEmpty?: boolean;
}

/** The format of one source: the flag, else the file's extension, else what the flags imply. */
export function inputFormatOf(source: string, options: InputOptions): InputFormat {
  if (options.inputFormat) return options.inputFormat;
  const lower = source.toLowerCase();
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.tsv') || lower.endsWith('.tab')) return 'tsv';
  if (options.field !== undefined) return 'jsonl';
  if (options.columns !== undefined) return 'tsv';
  return 'text';
}

export function checkInputOptions(sources: string[], options: InputOptions): void {
  if (options.columns && options.columns.length > 2) {
    throw new UsageError(`--column takes one column, or two for a pair, but received ${options.columns.length}`);
  }
  if (options.field !== undefined && options.columns !== undefined) throw new UsageError('--field (JSONL) and --column (CSV/TSV) cannot be used together');
  for (const source of sources) {
    const format = inputFormatOf(source, options);
    if (format === 'jsonl' && options.field === undefined) throw new UsageError(`${source} is JSONL: say which field holds the text with --field NAME`);
    if ((format === 'csv' || format === 'tsv') && options.columns === undefined) {
      throw new UsageError(`${source} is ${format.toUpperCase()}: say which column holds the text with --column NAME|N`);
    }
  }
}

function jsonlSentences(lines: AsyncIterable<SourceLine>, field: string): AsyncGenerator<SourceLine> {
  return (async function* () {
    for await (const { source, line, text } of lines) {
      if (text.trim() === '') continue; // JSONL allows blank lines between records
      let record: unknown;
      try {
        record = JSON.parse(text);
      } catch (error) {
        throw new InputError(source, line, `invalid JSON (${(error as Error).message})`);
      }
      const value = record !== null && typeof record === 'object' ? (record as Record<string, unknown>)[field] : undefined;
      if (typeof value !== 'string') {
        throw new InputError(source, line, `expected a string in field "${field}" but found ${value === undefined ? 'no such field' : JSON.stringify(value)}`);
      }
      yield { source, line, text: value };
    }
  })();
}

function columnSentences(records: AsyncIterable<SourceRecord>, options: InputOptions): AsyncGenerator<SourceLine> {
  const columns = options.columns!;
  const byName = columns.some((column) => !/^\d+$/.test(column));
  return (async function* () {
    let indices: number[] | undefined = byName ? undefined : columns.map((column) => Number(column) - 1);
    if (indices?.some((index) => index < 0)) throw new UsageError('--column numbers start at 1');
    let first = true;
    for await (const { source, line, fields } of records) {
      if (first && (byName || options.header)) {
        first = false;
        if (byName) {
          indices = columns.map((name) => {
            const index = fields.indexOf(name);
            if (index < 0) throw new InputError(source, line, `no column "${name}" in the header (${fields.join(', ')})`);
            return index;
          });
        }
        continue;
      }
      first = false;
      if (fields.length === 1 && fields[0] === '') continue; // a blank line is not a record
      const texts = indices!.map((index) => {
        if (index >= fields.length) throw new InputError(source, line, `expected at least ${index + 1} columns but found ${fields.length}`);
        return fields[index];
      });
      yield { source, line, text: texts.join(PAIR_SEPARATOR) };
    }
  })();
}

/** Every sentence of every source, in order. */
export async function* readSentences(sources: string[], options: InputOptions): AsyncGenerator<SourceLine> {
  for (const source of sources) yield* readSourceSentences(source, options);
}

/**
 * The sentences of one source, or of a byte range of it that starts at a record (a queue's shard: its
 * columns given by number, without the header, which lies before the range).
 */
export async function* readSourceSentences(source: string, options: InputOptions, range?: ByteRange): AsyncGenerator<SourceLine> {
  const format = inputFormatOf(source, options);
  const lines = readLines(source, range);
  const sentences =
    format === 'jsonl'
      ? jsonlSentences(lines, options.field!)
      : format === 'csv'
        ? columnSentences(csvRecords(lines), options)
        : format === 'tsv'
          ? columnSentences(tsvRecords(lines), options)
          : lines;
  for await (const sentence of sentences) {
    if (options.skipEmpty && sentence.text.trim() === '') continue;
    if (options.pairs && !sentence.text.includes(PAIR_SEPARATOR)) {
      throw new InputError(sentence.source, sentence.line, `expected a pair written 'A${PAIR_SEPARATOR}B' (--pairs)`);
    }
    yield sentence;
  }
}

/** Groups sentences into lists of `size` for encodeStream, keeping their places beside them. */
export async function* chunked(sentences: AsyncIterable<SourceLine>, size: number): AsyncGenerator<SourceLine[]> {
  let chunk: SourceLine[] = [];
  for await (const sentence of sentences) {
    chunk.push(sentence);
    if (chunk.length === size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}
