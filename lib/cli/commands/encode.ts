/** `bert-embed encode`: sentences from files or stdin to vectors, streamed in constant memory. */
import { Command, Option } from 'commander';
import { Encoder } from '../../encoder.js';
import { UsageError } from '../usage-error.js';
import { addEncoderFlags, addModelFlags, asFlagError, encoderOptionsFrom, resolveModelDir, type EncoderFlagValues } from '../encoder-flags.js';
import { addInputFlags, checkReadable, inputOptionsFrom, totalLines, type InputFlagValues } from '../input-flags.js';
import { chunked, readSentences } from '../input/sentences.js';
import type { SourceLine } from '../input/line-reader.js';
import { OUTPUT_FORMATS, openVectorSink, outputFormatOf, type OutputFormat } from '../output/vector-sink.js';
import { locateNonFinite } from '../non-finite.js';
import { checkOutputIsNotInput, writeAllOrNothing } from '../output/byte-sink.js';
import { createProgress } from '../progress.js';
import { runSignal, stopOnSignals, throwIfStopped } from '../run-control.js';

/** Sentences handed to the encoder at a time; the encoder keeps several chunks in flight. */
const CHUNK = 256;

export function encodeCommand(): Command {
  const command = new Command('encode').description('encode sentences into vectors (.npy, JSON lines or raw float32)');
  addInputFlags(command);
  addModelFlags(command);
  addEncoderFlags(command);
  return command
    .option('-o, --output <file>', 'output file: .npy, .jsonl or .f32 (default: JSON lines on stdout)')
    .addOption(new Option('--format <format>', 'output format (default: from the output file name)').choices(OUTPUT_FORMATS))
    .option('--show-tokens', 'JSON lines: add the tokens the model saw')
    .addHelpText(
      'after',
      `
Examples:
  bert-embed encode -m ./all-MiniLM-L6-v2 sentences.txt -o vectors.npy
  cat sentences.txt | bert-embed encode -m ./model --normalize > vectors.jsonl
  bert-embed encode -m ./model --field text docs.jsonl -o docs.npy
  bert-embed encode -m ./model --column 6 --column 7 sts-test.csv --input-format tsv -o pairs.f32
  bert-embed encode -m sentence-transformers/all-MiniLM-L6-v2 --pooling NONE -o tokens.npy notes.txt`,
    )
    .action(async (files: string[], flags: InputFlagValues & Record<string, unknown>) => runEncode(files, flags));
}

async function runEncode(files: string[], flags: InputFlagValues & Record<string, unknown>): Promise<void> {
  stopOnSignals();
  const sources = files.length > 0 ? files : ['-'];
  const input = inputOptionsFrom(sources, flags);
  const output = flags.output as string | undefined;
  const format = outputFormatOf(output, flags.format as OutputFormat | undefined);
  const options = encoderOptionsFrom(flags as EncoderFlagValues);
  checkReadable(sources);
  checkOutputIsNotInput(output, sources);

  const modelDir = await resolveModelDir(flags as { model: string; revision: string; quiet?: boolean });
  const encoder = await Encoder.load(modelDir, options).catch((error: unknown) => {
    throw asFlagError(error);
  });
  try {
    throwIfStopped();
    if (encoder.options.pooling === 'NONE' && encoder.options.maxSeqLen === null && !encoder.options.fixedEmbedLength) {
      // Each chunk's token vectors would be as long as its own longest sentence: no one row shape for the file.
      throw new UsageError('--pooling NONE with --max-seq-len NONE writes rows of one shape only with --fixed-embed-length (or give --max-seq-len a number)');
    }
    const rowShape = encoder.options.pooling === 'NONE' ? [encoder.maxTokens, encoder.dimension] : [encoder.dimension];
    const quiet = Boolean(flags.quiet);
    const progress = createProgress('sentences', quiet || !process.stderr.isTTY ? undefined : await totalLines(sources, input), quiet);
    const sink = await openVectorSink(output, format, rowShape, { withSource: sources.length > 1 });
    const showTokens = Boolean(flags.showTokens);
    const places: SourceLine[][] = [];
    const texts = (async function* () {
      for await (const chunk of chunked(readSentences(sources, input), CHUNK)) {
        places.push(chunk);
        yield chunk.map((sentence) => sentence.text);
      }
    })();
    await writeAllOrNothing(sink, async () => {
      try {
        for await (const embeddings of encoder.encodeStream(texts, { showTokens, signal: runSignal })) {
          const chunk = places.shift()!;
          await sink.write(embeddings, chunk);
          progress.advance(chunk.length);
        }
      } catch (error) {
        // The chunk that failed is the oldest not yet written.
        throw await locateNonFinite(error, places[0] ?? [], (text) => encoder.encode([text], { showTokens, signal: runSignal }));
      }
    });
    progress.finish();
  } finally {
    await encoder.close();
  }
}
