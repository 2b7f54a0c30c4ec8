/**
 * CSV records (RFC 4180: quoted fields, "" for a quote, newlines inside quotes) built from lines,
 * so a record can span lines. TSV has no quoting (IANA text/tab-separated-values): fields are
 * split on tabs as they are, which is how STS-B and most TSV exports are written.
 */
import { InputError } from '../usage-error.js';
import type { SourceLine } from './line-reader.js';

export interface SourceRecord {
  source: string;
  /** line the record starts on */
  line: number;
  fields: string[];
}

export async function* tsvRecords(lines: AsyncIterable<SourceLine>): AsyncGenerator<SourceRecord> {
  for await (const { source, line, text } of lines) yield { source, line, fields: text.split('\t') };
}

export async function* csvRecords(lines: AsyncIterable<SourceLine>): AsyncGenerator<SourceRecord> {
  let fields: string[] = [];
  let field = '';
  let quoted = false; // inside a quoted field, across lines
  let start: SourceLine | undefined;
  for await (const current of lines) {
    const { text } = current;
    if (!quoted) start = current;
    else field += '\n';
    for (let i = 0; i < text.length; i++) {
      const char = text[i];
      if (quoted) {
        if (char !== '"') field += char;
        else if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else if (char === '"' && field.length === 0) quoted = true;
      else if (char === ',') {
        fields.push(field);
        field = '';
      } else field += char;
    }
    if (quoted) continue;
    fields.push(field);
    yield { source: start!.source, line: start!.line, fields };
    fields = [];
    field = '';
  }
  if (quoted) throw new InputError(start!.source, start!.line, 'a quoted CSV field is never closed');
}
