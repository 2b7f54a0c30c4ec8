/** `bert-embed fill-mask`: the masked-LM head's top-k candidates at every [MASK] of each line. */
import { Command } from 'commander';
import type { Encoder } from '../../encoder.js';
import type { FillMaskCandidate } from '../../tasks/index.js';
import { parseInteger } from '../encoder-flags.js';
import type { SourceLine } from '../input/line-reader.js';
import { addMaskedLmFlags, inOrderChunks, openMaskedLmRun, readSentences, sourceField, type MaskedLmFlags } from '../masked-lm.js';
import { openByteSink, writeAllOrNothing } from '../output/byte-sink.js';
import { InputError, UsageError } from '../usage-error.js';

type FillMaskFlags = MaskedLmFlags & { topK: number };

export function fillMaskCommand(): Command {
  const command = new Command('fill-mask').description('predict the tokens at every [MASK] of each sentence with the masked-LM head, as JSON lines');
  addMaskedLmFlags(command);
  return command
    .option('--top-k <n>', 'candidates per [MASK]', parseInteger, 5)
    .addHelpText(
      'after',
      `
Every line needs at least one [MASK] (the model's mask token) within its first --max-seq-len
tokens: a line without one stops the run with exit 1, naming the file and line.
The model needs BertForMaskedLM's head (cls.predictions.*), as bert-base-uncased has it.

Examples:
  echo 'Paris is the [MASK] of France.' | bert-embed fill-mask -m ./bert-base-uncased
  bert-embed fill-mask -m ./bert-base-uncased --top-k 10 cloze.txt -o answers.jsonl`,
    )
    .action(async (files: string[], flags: FillMaskFlags) => runFillMask(files, flags));
}

function candidateJson(candidate: FillMaskCandidate): string {
  return JSON.stringify({ score: candidate.score, token: candidate.token, token_str: candidate.tokenStr, sequence: candidate.sequence });
}

/** Sentences with a [MASK] the model will see; the first without one fails with its place. */
async function* withMasks(sentences: AsyncIterable<SourceLine>, encoder: Encoder): AsyncGenerator<SourceLine> {
  const { maskToken } = encoder.tokenizer.config;
  const maskId = encoder.tokenizer.tokenToId(maskToken);
  for await (const sentence of sentences) {
    const { ids } = encoder.tokenizer.encode(sentence.text, undefined, { maxLength: encoder.maxTokens, addSpecialTokens: encoder.options.specialTokens });
    if (maskId === undefined || !ids.includes(maskId)) {
      throw new InputError(sentence.source, sentence.line, `no ${maskToken} within the first ${encoder.maxTokens} tokens; fill-mask needs one in every line`);
    }
    yield sentence;
  }
}

async function runFillMask(files: string[], flags: FillMaskFlags): Promise<void> {
  const topK = flags.topK;
  if (topK < 1) throw new UsageError(`--top-k must be at least 1 but received ${topK}`);
  const { sources, input, encoder, progress } = await openMaskedLmRun(files, flags, 'fillMask');
  try {
    if (topK > encoder.config.vocabSize) throw new UsageError(`--top-k must be at most the vocabulary size (${encoder.config.vocabSize}) but received ${topK}`);
    const sink = openByteSink(flags.output);
    await writeAllOrNothing(sink, async () => {
      const withSource = sources.length > 1;
      const chunks = inOrderChunks(withMasks(readSentences(sources, input), encoder), (texts, signal) => encoder.fillMask(texts, { topK, signal }), encoder.options.workers);
      for await (const { places, results } of chunks) {
        let text = '';
        results.forEach((masks, i) => {
          const lists = masks.map((candidates) => `[${candidates.map(candidateJson).join(',')}]`);
          text += `{${sourceField(places[i], withSource)}"line":${places[i].line},"masks":[${lists.join(',')}]}\n`;
        });
        await sink.write(text);
        progress.advance(places.length);
      }
    });
    progress.finish();
  } finally {
    await encoder.close();
  }
}
