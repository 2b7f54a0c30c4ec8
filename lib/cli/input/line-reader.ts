/**
 * Lines of a file or stdin, read as bytes and decoded one line at a time, so that invalid UTF-8
 * is reported with its line number and memory stays one chunk plus one line, whatever the size.
 */
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { runSignal, throwIfStopped } from '../run-control.js';
import { InputError } from '../usage-error.js';

export interface SourceLine {
  /** file name, or '-' for stdin */
  source: string;
  /** 1-based */
  line: number;
  text: string;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** A part of a file: bytes [start, end) whose first line is line `firstLine` of the file (a queue's shard). */
export interface ByteRange {
  start: number;
  end: number;
  firstLine: number;
}

function openSource(source: string, range: ByteRange | undefined): Readable {
  if (source === '-') return process.stdin;
  return range ? fs.createReadStream(source, { start: range.start, end: range.end - 1 }) : fs.createReadStream(source);
}

export async function* readLines(source: string, range?: ByteRange): AsyncGenerator<SourceLine> {
  // ignoreBOM keeps a U+FEFF in the text: only the file's first line drops it, below.
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let pending: Buffer[] = [];
  let line = range ? range.firstLine - 1 : 0;
  const decode = (bytes: Buffer): string => {
    line++;
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === CARRIAGE_RETURN) end--; // CRLF files
    try {
      const text = decoder.decode(bytes.subarray(0, end));
      // A byte-order mark is only meaningful at the very start of a file.
      return line === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    } catch {
      throw new InputError(source, line, 'invalid UTF-8');
    }
  };
  throwIfStopped();
  if (range && range.end <= range.start) return;
  const stream = openSource(source, range);
  // A stopped run (a signal, a closed stdout) must not wait for more input, a terminal's included.
  const stop = (): void => void stream.destroy(runSignal.reason as Error);
  runSignal.addEventListener('abort', stop, { once: true });
  try {
    for await (const chunk of stream) {
      let bytes = chunk as Buffer;
      for (let newline = bytes.indexOf(NEWLINE); newline >= 0; newline = bytes.indexOf(NEWLINE)) {
        pending.push(bytes.subarray(0, newline));
        const text = decode(pending.length === 1 ? pending[0] : Buffer.concat(pending));
        yield { source, line, text };
        pending = [];
        bytes = bytes.subarray(newline + 1);
      }
      if (bytes.length > 0) pending.push(bytes);
    }
  } finally {
    runSignal.removeEventListener('abort', stop);
  }
  throwIfStopped();
  if (pending.length > 0) {
    const text = decode(Buffer.concat(pending));
    yield { source, line, text };
  }
}

/** Newlines in a file (a quick pass for the progress bar's total); undefined for stdin. */
export async function countLines(source: string): Promise<number | undefined> {
  if (source === '-') return undefined;
  let count = 0;
  let last = NEWLINE;
  for await (const chunk of fs.createReadStream(source)) {
    const bytes = chunk as Buffer;
    for (let at = bytes.indexOf(NEWLINE); at >= 0; at = bytes.indexOf(NEWLINE, at + 1)) count++;
    if (bytes.length > 0) last = bytes[bytes.length - 1];
  }
  return last === NEWLINE ? count : count + 1;
}
