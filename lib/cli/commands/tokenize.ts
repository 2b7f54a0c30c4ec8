/** `bert-embed tokenize`: the tokens and ids the model would see, one JSON line per sentence. */
import { Command } from 'commander';
import { describeModel } from '../../model/model-description.js';
import { addModelFlags, asFlagError, parseInteger, resolveModelDir } from '../encoder-flags.js';
import { addInputFlags, checkReadable, inputOptionsFrom, type InputFlagValues } from '../input-flags.js';
import { readSentences } from '../input/sentences.js';
import { checkOutputIsNotInput, openByteSink, writeAllOrNothing } from '../output/byte-sink.js';
import { stopOnSignals } from '../run-control.js';

export function tokenizeCommand(): Command {
  const command = new Command('tokenize').description('print the tokens and ids of each sentence as JSON lines');
  addInputFlags(command);
  addModelFlags(command);
  return command
    .option('--max-seq-len <n>', 'tokens per sentence, [CLS]/[SEP] included; longer input is truncated', parseInteger)
    .option('-o, --output <file>', 'output file (default: stdout)')
    .addHelpText(
      'after',
      `
Examples:
  echo 'Hello, world!' | bert-embed tokenize -m ./bert-base-uncased
  bert-embed tokenize -m ./model --field text docs.jsonl -o tokens.jsonl`,
    )
    .action(async (files: string[], flags: InputFlagValues & { model: string; revision: string; quiet?: boolean; maxSeqLen?: number; output?: string }) => {
      stopOnSignals();
      const sources = files.length > 0 ? files : ['-'];
      const input = inputOptionsFrom(sources, flags);
      checkReadable(sources);
      checkOutputIsNotInput(flags.output, sources);
      const modelDir = await resolveModelDir(flags);
      let model;
      try {
        model = describeModel(modelDir, flags.maxSeqLen === undefined ? {} : { maxSeqLen: flags.maxSeqLen });
      } catch (error) {
        throw asFlagError(error);
      }
      const maxLength = model.options.maxSeqLen;
      const sink = openByteSink(flags.output);
      await writeAllOrNothing(sink, async () => {
        for await (const { source, line, text } of readSentences(sources, input)) {
          const { tokens, ids, typeIds, offsets } = model.tokenizer.encodeWithOffsets(text, undefined, { maxLength });
          const from = sources.length > 1 ? `"source":${JSON.stringify(source)},` : '';
          const fields = `"tokens":${JSON.stringify(tokens)},"ids":${JSON.stringify(ids)},"typeIds":${JSON.stringify(typeIds)},"offsets":${JSON.stringify(offsets)}`;
          await sink.write(`{${from}"line":${line},${fields}}\n`);
        }
      });
    });
}
