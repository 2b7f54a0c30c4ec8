/** The input flags `encode` and `tokenize` share, and the sources they name. */
import fs from 'node:fs';
import { Command, Option } from 'commander';
import { checkInputOptions, INPUT_FORMATS, inputFormatOf, type InputOptions } from './input/sentences.js';
import { countLines } from './input/line-reader.js';
import { UsageError } from './usage-error.js';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function addInputFlags(command: Command): Command {
  return command
    .argument('[files...]', "text files, one sentence per line ('-' or none: stdin)")
    .option('--field <name>', 'JSONL input: the field that holds the text')
    .option('--column <name|n>', 'CSV/TSV input: the column (name, or number from 1) that holds the text; give it twice for a pair', collect)
    .option('--header', 'with numbered --column: skip the first row')
    .addOption(new Option('--input-format <format>', 'input format (default: from the file name)').choices(INPUT_FORMATS))
    .option('--pairs', "every line is a sentence pair written 'A ||| B'")
    .option('--skip-empty', 'skip empty lines instead of encoding them');
}

export interface InputFlagValues {
  field?: string;
  column?: string[];
  header?: boolean;
  inputFormat?: InputOptions['inputFormat'];
  pairs?: boolean;
  skipEmpty?: boolean;
}

export function inputOptionsFrom(sources: string[], flags: InputFlagValues): InputOptions {
  const options: InputOptions = {
    inputFormat: flags.inputFormat,
    field: flags.field,
    columns: flags.column,
    header: flags.header,
    pairs: flags.pairs,
    skipEmpty: flags.skipEmpty,
  };
  checkInputOptions(sources, options);
  if (sources.filter((source) => source === '-').length > 1) throw new UsageError("stdin ('-') can be read only once");
  return options;
}

/** Fails (exit 1) on a file that cannot be read before any model is loaded. */
export function checkReadable(sources: string[]): void {
  for (const source of sources) {
    if (source === '-') continue;
    try {
      fs.accessSync(source, fs.constants.R_OK);
      if (fs.statSync(source).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    } catch (error) {
      throw new Error(`cannot read ${source}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
}

/** Lines in the files, for the progress bar's total (rows in CSV with a header: one fewer, near enough). */
export async function totalLines(sources: string[], options: InputOptions): Promise<number | undefined> {
  if (sources.includes('-')) return undefined;
  let total = 0;
  for (const source of sources) {
    total += (await countLines(source)) ?? 0;
    if (inputFormatOf(source, options) !== 'text' && (options.header || options.columns?.some((c) => !/^\d+$/.test(c)))) total--;
  }
  return total;
}
