/** `bert-embed classify-tokens`: each line's labelled tokens or entities (NER) with a token classifier, as JSON lines. */
import { Command } from 'commander';
import { AGGREGATION_STRATEGIES, requireTask, type AggregationStrategy, type TokenEntity } from '../../tasks/index.js';
import type { SourceLine } from '../input/line-reader.js';
import { parseInteger } from '../encoder-flags.js';
import { addMaskedLmFlags, openHeadRun, sourceField, writeLinePerInput, type MaskedLmFlags } from '../masked-lm.js';
import { UsageError } from '../usage-error.js';

type ClassifyTokensFlags = MaskedLmFlags & { aggregationStrategy: string; ignoreLabels?: string[]; stride?: number; noTruncate?: boolean; truncate?: boolean };

export function classifyTokensCommand(): Command {
  const command = new Command('classify-tokens').description("label each line's tokens with the model's token-classification head (NER), as JSON lines");
  addMaskedLmFlags(command);
  return command
    .option('--aggregation-strategy <strategy>', `${AGGREGATION_STRATEGIES.join(', ')}: per token, or tokens grouped into entities as the pipeline groups them`, 'none')
    .option('--ignore-labels <label...>', "labels left out (default: O); give '' alone to keep every label")
    .option('--stride <n>', 'label a line longer than --max-seq-len in windows overlapping by n tokens (not with --aggregation-strategy none)', parseInteger)
    .option('--no-truncate', 'refuse a line longer than --max-seq-len (exit 1, ERR_INPUT_TOO_LONG) instead of cutting it')
    .addHelpText(
      'after',
      `
Each output line is {"line", "entities": [...]}: with --aggregation-strategy none each entity is
{"entity", "score", "index", "word", "start", "end"}, otherwise {"entity_group", "score", "word", "start", "end"},
as transformers' token-classification pipeline gives them; start and end are UTF-16 offsets into the line.
The model needs BertForTokenClassification's head.

Examples:
  bert-embed classify-tokens -m ./bert-base-NER news.txt --aggregation-strategy simple
  echo 'Ada Lovelace was born in London.' | bert-embed classify-tokens -m ./bert-base-NER --aggregation-strategy first`,
    )
    .action(async (files: string[], flags: ClassifyTokensFlags) => runClassifyTokens(files, flags));
}

/** One line's JSON line. */
export function classifyTokensJsonLine(entities: TokenEntity[], place: SourceLine, withSource: boolean): string {
  return `{${sourceField(place, withSource)}"line":${place.line},"entities":${JSON.stringify(entities)}}\n`;
}

async function runClassifyTokens(files: string[], flags: ClassifyTokensFlags): Promise<void> {
  const strategy = flags.aggregationStrategy as AggregationStrategy;
  const run = await openHeadRun(files, flags, () => {
    if (!(AGGREGATION_STRATEGIES as readonly string[]).includes(strategy)) {
      throw new UsageError(`--aggregation-strategy must be one of ${AGGREGATION_STRATEGIES.join(', ')} but received ${flags.aggregationStrategy}`);
    }
  }, async (encoder) => requireTask(encoder.capabilities, 'classify-tokens'));
  const { encoder } = run;
  try {
    const ignoreLabels = flags.ignoreLabels === undefined ? undefined : flags.ignoreLabels.filter((label) => label !== '');
    const options = { aggregationStrategy: strategy, ignoreLabels, stride: flags.stride, truncate: flags.truncate !== false };
    await writeLinePerInput(run, flags.output, (texts, signal) => encoder.classifyTokens(texts, { ...options, signal }), classifyTokensJsonLine);
  } finally {
    await encoder.close();
  }
}
