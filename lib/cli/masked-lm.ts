/**
 * What the head commands share (score, fill-mask, rerank, classify): loading a model that must have their head, and
 * running the sentences of the input through the encoder a window at a time, results in input order.
 */
import { setMaxListeners } from 'node:events';
import { Command } from 'commander';
import { Encoder } from '../encoder.js';
import { requireTask } from '../tasks/index.js';
import { inSourceOrder } from '../in-source-order.js';
import { addEncoderFlags, addModelFlags, asFlagError, encoderOptionsFrom, resolveModelDir, type EncoderFlagValues } from './encoder-flags.js';
import { addInputFlags, checkReadable, inputOptionsFrom, totalLines, type InputFlagValues } from './input-flags.js';
import type { SourceLine } from './input/line-reader.js';
import { chunked, readSentences, type InputOptions } from './input/sentences.js';
import { locateNonFinite } from './non-finite.js';
import { checkOutputIsNotInput, openByteSink, writeAllOrNothing } from './output/byte-sink.js';
import { createProgress, type Progress } from './progress.js';
import { runSignal, stopOnSignals, throwIfStopped } from './run-control.js';

/**
 * Sentences per encoder call. Each scored sentence is one row per token (a masked copy), so a
 * chunk is already many rows; a few chunks in flight keep every worker busy.
 */
export const MASKED_LM_CHUNK = 64;
const CHUNKS_IN_FLIGHT = 4;

export type MaskedLmFlags = InputFlagValues & EncoderFlagValues & { model: string; revision: string; quiet?: boolean; output?: string };

/** The flags of a masked-LM command: input, model, encoder, and `-o`. */
export function addMaskedLmFlags(command: Command): Command {
  addInputFlags(command);
  addModelFlags(command);
  addEncoderFlags(command);
  return command.option('-o, --output <file>', 'output file (default: stdout)');
}

export interface MaskedLmRun {
  sources: string[];
  input: InputOptions;
  encoder: Encoder;
  progress: Progress;
}

/** The input and the loaded model of a command that runs one head over the sentences of its input. */
export interface HeadRun {
  sources: string[];
  input: InputOptions;
  encoder: Encoder;
}

/**
 * Checks the flags and the input files, loads the model, and runs `requireHead` (which throws the
 * encoder's own refusal when the model lacks the head), all before any input is read. `checkFlags`
 * runs before the model loads. The encoder is closed again when anything after its load fails.
 */
export async function openHeadRun(files: string[], flags: MaskedLmFlags, checkFlags: () => void, requireHead: (encoder: Encoder) => Promise<void>): Promise<HeadRun> {
  stopOnSignals();
  const sources = files.length > 0 ? files : ['-'];
  const input = inputOptionsFrom(sources, flags);
  const options = encoderOptionsFrom(flags);
  checkFlags();
  checkReadable(sources);
  checkOutputIsNotInput(flags.output, sources);
  const modelDir = await resolveModelDir(flags);
  const encoder = await Encoder.load(modelDir, options).catch((error: unknown) => {
    throw asFlagError(error);
  });
  try {
    throwIfStopped();
    await requireHead(encoder);
    return { sources, input, encoder };
  } catch (error) {
    await encoder.close();
    throw error;
  }
}

/** openHeadRun for BertForMaskedLM's head (exit 1, ERR_NO_MLM_HEAD, without it), with a progress bar. */
export async function openMaskedLmRun(
  files: string[],
  flags: MaskedLmFlags,
  method: 'score' | 'fillMask',
  checkFlags: () => void = () => undefined,
): Promise<MaskedLmRun> {
  // The capabilities' own refusal (ERR_NO_MLM_HEAD), so that the CLI says what the API says.
  const run = await openHeadRun(files, flags, checkFlags, async (encoder) => requireTask(encoder.capabilities, method === 'score' ? 'score' : 'fill-mask'));
  const { sources, input, encoder } = run;
  try {
    const quiet = Boolean(flags.quiet);
    const progress = createProgress('sentences', quiet || !process.stderr.isTTY ? undefined : await totalLines(sources, input), quiet);
    return { sources, input, encoder, progress };
  } catch (error) {
    await encoder.close();
    throw error;
  }
}

/**
 * The input's sentences in chunks, each with its results from `run`, in input order, while the
 * next chunks are already in the encoder. Reading pauses while CHUNKS_IN_FLIGHT chunks are out;
 * stopping early (or a failure, or a stopped run) cancels what is still queued. A chunk whose
 * answer is not finite fails with the line that is (ERR_NON_FINITE).
 */
export async function* inOrderChunks<R>(
  sentences: AsyncIterable<SourceLine>,
  run: (texts: string[], signal: AbortSignal) => Promise<R[]>,
  workers: number,
): AsyncGenerator<{ places: SourceLine[]; results: R[] }> {
  const stop = new AbortController();
  const signal = AbortSignal.any([stop.signal, runSignal]);
  setMaxListeners(0, signal); // one listener per call in flight, each removed when its call settles
  const runChunk = async (places: SourceLine[]): Promise<{ places: SourceLine[]; results: R[] }> => {
    try {
      return { places, results: await run(places.map((place) => place.text), signal) };
    } catch (error) {
      throw await locateNonFinite(error, places, (text) => run([text], signal));
    }
  };
  try {
    yield* inSourceOrder(
      chunked(sentences, MASKED_LM_CHUNK),
      runChunk,
      (places) => places.length,
      MASKED_LM_CHUNK * CHUNKS_IN_FLIGHT * Math.max(1, workers),
    );
  } finally {
    stop.abort();
  }
}

/** `"source":"file",` when several sources are read (as encode writes it), else nothing. */
export function sourceField(place: SourceLine, withSource: boolean): string {
  return withSource ? `"source":${JSON.stringify(place.source)},` : '';
}

export { readSentences };

/** Writes one line per input line, in input order, all or nothing (`-o FILE` or stdout): what classify and classify-tokens print. */
export async function writeLinePerInput<R>(
  run: HeadRun,
  output: string | undefined,
  call: (texts: string[], signal: AbortSignal) => Promise<R[]>,
  lineOf: (result: R, place: SourceLine, withSource: boolean) => string,
): Promise<void> {
  const { sources, input, encoder } = run;
  const sink = openByteSink(output);
  await writeAllOrNothing(sink, async () => {
    const withSource = sources.length > 1;
    for await (const { places, results } of inOrderChunks(readSentences(sources, input), call, encoder.options.workers)) {
      await sink.write(results.map((result, i) => lineOf(result, places[i], withSource)).join(''));
    }
  });
}
