/** `bert-embed classify`: the labels of each line (a text, or a pair written 'A ||| B') with a sequence classifier, as JSON lines. */
import { Command } from 'commander';
import type { ClassifyInput, ClassifyResult } from '../../tasks/index.js';
import type { SourceLine } from '../input/line-reader.js';
import { PAIR_SEPARATOR } from '../../tasks/index.js';
import { parseInteger } from '../encoder-flags.js';
import { addMaskedLmFlags, sourceField, writeLinePerInput, type MaskedLmFlags } from '../masked-lm.js';
import { UsageError } from '../usage-error.js';
import { openClassifierRun } from './classifier-run.js';

type ClassifyFlags = MaskedLmFlags & { topK?: number; rawScores?: boolean };

export function classifyCommand(): Command {
  const command = new Command('classify').description("label each line with the model's sequence-classification head, as JSON lines");
  addMaskedLmFlags(command);
  return command
    .option('--top-k <n>', 'labels per line, best first (default: all)', parseInteger)
    .option('--raw-scores', 'logits instead of softmax (sigmoid for multi-label or one-label models)')
    .addHelpText(
      'after',
      `
Each output line is {"line", "labels": [{"label", "score"}], "truncated"}, labels best first, scores as
transformers' text-classification pipeline gives them. A line 'A ||| B' is the pair (A, B), as an NLI
model takes its premise and hypothesis. The model needs BertForSequenceClassification's head.

Examples:
  bert-embed classify -m ./bert-base-uncased-sst2 reviews.txt
  echo 'A man plays. ||| Someone is playing.' | bert-embed classify -m ./nli-model --top-k 1`,
    )
    .action(async (files: string[], flags: ClassifyFlags) => runClassify(files, flags));
}

/** A line 'A ||| B' is the pair (A, B). */
export function classifyInputOf(text: string): ClassifyInput {
  const at = text.indexOf(PAIR_SEPARATOR);
  return at < 0 ? text : [text.slice(0, at), text.slice(at + PAIR_SEPARATOR.length)];
}

/** One line's JSON line, as `classify` and a queue run's shards write it. */
export function classifyJsonLine(result: ClassifyResult, place: SourceLine, withSource: boolean): string {
  return `{${sourceField(place, withSource)}"line":${place.line},"labels":${JSON.stringify(result.labels)},"truncated":${result.truncated}}\n`;
}

async function runClassify(files: string[], flags: ClassifyFlags): Promise<void> {
  const run = await openClassifierRun(files, flags, () => {
    if (flags.topK !== undefined && flags.topK < 1) throw new UsageError(`--top-k must be at least 1 but received ${flags.topK}`);
  });
  const { encoder } = run;
  try {
    const options = { topK: flags.topK, rawScores: Boolean(flags.rawScores) };
    await writeLinePerInput(run, flags.output, (texts, signal) => encoder.classify(texts.map(classifyInputOf), { ...options, signal }), classifyJsonLine);
  } finally {
    await encoder.close();
  }
}
