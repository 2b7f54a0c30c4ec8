/**
 * Cuts a run's input into shards. A file's shard is a reference, (file, byte range, first line),
 * never its texts: a corpus of 100M lines would otherwise put tens of GB into Redis. Stdin and
 * texts given to addRun travel inline, one shard's texts in its job.
 *
 * Two streaming passes over each file: the sentences as `encode` reads them (so blank-line, header,
 * --skip-empty and quoted-CSV rules are the CLI's), noting the line each shard starts on; then the
 * bytes, to find where those lines start.
 */
import fs from 'node:fs';
import { csvRecords, tsvRecords } from '../cli/input/csv.js';
import { readLines } from '../cli/input/line-reader.js';
import { inputFormatOf, readSourceSentences, type InputOptions } from '../cli/input/sentences.js';
import { InputError } from '../cli/usage-error.js';
import type { FileShardInput, InlineShardInput, RunRecord } from './run-record.js';

export interface PlannedShard {
  firstRow: number;
  rows: number;
  input: FileShardInput | InlineShardInput;
}

export interface ShardPlan {
  shards: PlannedShard[];
  rows: number;
  /** how a worker reads a file shard: columns by number, no header */
  input: InputOptions;
  sources: RunRecord['sources'];
}

/** Named columns (or a header row) resolved against the file's first record, so a shard needs no header. */
async function columnNumbers(source: string, input: InputOptions): Promise<string[] | undefined> {
  if (!input.columns) return undefined;
  if (input.columns.every((column) => /^\d+$/.test(column))) return input.columns;
  const format = inputFormatOf(source, input);
  const records = format === 'csv' ? csvRecords(readLines(source)) : tsvRecords(readLines(source));
  for await (const { line, fields } of records) {
    return input.columns.map((name) => {
      const index = fields.indexOf(name);
      if (index < 0) throw new InputError(source, line, `no column "${name}" in the header (${fields.join(', ')})`);
      return String(index + 1);
    });
  }
  return input.columns; // an empty file: no rows, nothing to read
}

/** Byte offsets at which the given (ascending, 1-based) lines start. */
async function lineOffsets(source: string, lines: number[]): Promise<number[]> {
  const offsets: number[] = [];
  let want = 0;
  let line = 1;
  let position = 0;
  while (want < lines.length && lines[want] === 1) {
    offsets.push(0);
    want++;
  }
  for await (const chunk of fs.createReadStream(source)) {
    const bytes = chunk as Buffer;
    for (let at = bytes.indexOf(0x0a); at >= 0 && want < lines.length; at = bytes.indexOf(0x0a, at + 1)) {
      line++;
      while (want < lines.length && lines[want] === line) {
        offsets.push(position + at + 1);
        want++;
      }
    }
    position += bytes.length;
    if (want === lines.length) break;
  }
  if (want < lines.length) throw new Error(`${source} changed while it was read: line ${lines[want]} is gone`);
  return offsets;
}

async function planFile(
  source: string,
  input: InputOptions,
  shardSize: number,
  firstRow: number,
): Promise<{ shards: PlannedShard[]; rows: number; columns?: string[]; recorded: RunRecord['sources'][number] }> {
  const before = fs.statSync(source);
  const starts: { line: number; rows: number }[] = [];
  let rows = 0;
  for await (const sentence of readSourceSentences(source, input)) {
    if (rows % shardSize === 0) starts.push({ line: sentence.line, rows: 0 });
    starts[starts.length - 1].rows++;
    rows++;
  }
  const offsets = await lineOffsets(source, starts.map((start) => start.line));
  const after = fs.statSync(source);
  if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) throw new Error(`${source} changed while it was read: add the run again once it is written`);
  let row = firstRow;
  const shards = starts.map((start, i): PlannedShard => {
    const shard: PlannedShard = {
      firstRow: row,
      rows: start.rows,
      input: { kind: 'file', source, start: offsets[i], end: i + 1 < offsets.length ? offsets[i + 1] : after.size, firstLine: start.line },
    };
    row += start.rows;
    return shard;
  });
  // The file as its shards were planned: what a worker checks it against.
  return { shards, rows, columns: await columnNumbers(source, input), recorded: { path: source, size: after.size, mtimeMs: after.mtimeMs } };
}

/** Files as byte-range shards (none may be '-'). */
export async function planFileShards(files: string[], input: InputOptions, shardSize: number): Promise<ShardPlan> {
  const shards: PlannedShard[] = [];
  let rows = 0;
  let columns: string[] | undefined;
  const sources: RunRecord['sources'] = [];
  for (const source of files) {
    const planned = await planFile(source, input, shardSize, rows);
    if (columns && planned.columns && planned.columns.join() !== columns.join()) {
      throw new InputError(source, 1, `its columns (${input.columns!.join(', ')}) are not where the first file has them: a run's files share one header`);
    }
    columns ??= planned.columns;
    shards.push(...planned.shards);
    rows += planned.rows;
    sources.push(planned.recorded);
  }
  return { shards, rows, input: { ...input, columns, header: false }, sources };
}

/** Texts (from stdin or addRun's texts) as inline shards. */
export function planInlineShards(source: string, texts: { text: string; line: number }[], shardSize: number, input: InputOptions): ShardPlan {
  const shards: PlannedShard[] = [];
  for (let first = 0; first < texts.length; first += shardSize) {
    const part = texts.slice(first, first + shardSize);
    shards.push({ firstRow: first, rows: part.length, input: { kind: 'texts', source, texts: part.map((t) => t.text), lines: part.map((t) => t.line) } });
  }
  return { shards, rows: texts.length, input, sources: [] };
}
