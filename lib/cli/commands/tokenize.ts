/** `bert-embed tokenize`: the tokens and ids the model would see, one JSON line per sentence. */
import { Command } from 'commander';
import { describeModel } from '../../model/model-description.js';
import { truncationLength } from '../../options.js';
import { addEncoderFlags, addModelFlags, asFlagError, encoderOptionsFrom, resolveModelDir, type EncoderFlagValues } from '../encoder-flags.js';
import { addInputFlags, checkReadable, inputOptionsFrom, type InputFlagValues } from '../input-flags.js';
import { readSentences } from '../input/sentences.js';
import { checkOutputIsNotInput, openByteSink, writeAllOrNothing } from '../output/byte-sink.js';
import { stopOnSignals } from '../run-control.js';

export function tokenizeCommand(): Command {
  // What decides the tokens: the other options do not change them.
  const TOKENIZER_OPTIONS = ['maxSeqLen', 'specialTokens', 'casedTokenization'];
  const command = new Command('tokenize').description('print the tokens and ids of each sentence as JSON lines');
  addInputFlags(command);
  addModelFlags(command);
  addEncoderFlags(command, { only: TOKENIZER_OPTIONS });
  return command
    .option('-o, --output <file>', 'output file (default: stdout)')
    .addHelpText(
      'after',
      `
Examples:
  echo 'Hello, world!' | bert-embed tokenize -m ./bert-base-uncased
  bert-embed tokenize -m ./model --field text docs.jsonl -o tokens.jsonl`,
    )
    .action(async (files: string[], flags: InputFlagValues & EncoderFlagValues & { model: string; revision: string; quiet?: boolean; output?: string }) => {
      stopOnSignals();
      const sources = files.length > 0 ? files : ['-'];
      const input = inputOptionsFrom(sources, flags);
      checkReadable(sources);
      checkOutputIsNotInput(flags.output, sources);
      const modelDir = await resolveModelDir(flags);
      let model;
      try {
        model = describeModel(modelDir, encoderOptionsFrom(flags));
      } catch (error) {
        throw asFlagError(error);
      }
      const maxLength = truncationLength(model.options, model.config.maxPositions);
      const addSpecialTokens = model.options.specialTokens;
      const sink = openByteSink(flags.output);
      await writeAllOrNothing(sink, async () => {
        for await (const { source, line, text } of readSentences(sources, input)) {
          const { tokens, ids, typeIds, offsets } = model.tokenizer.encodeWithOffsets(text, undefined, { maxLength, addSpecialTokens });
          const from = sources.length > 1 ? `"source":${JSON.stringify(source)},` : '';
          const fields = `"tokens":${JSON.stringify(tokens)},"ids":${JSON.stringify(ids)},"typeIds":${JSON.stringify(typeIds)},"offsets":${JSON.stringify(offsets)}`;
          await sink.write(`{${from}"line":${line},${fields}}\n`);
        }
      });
    });
}
