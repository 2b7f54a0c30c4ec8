/** classifyTokens()'s options. */
import { assertStringArray, checkOneOf } from '../../validation.js';
import { readBoolean, SIGNAL, truncateOption, type TaskOptionDeclaration, type TaskOptions } from '../shared/task-options.js';
import type { TaskContext } from '../shared/task-context.js';
import { AGGREGATION_STRATEGIES, checkStride } from './entities.js';

/** Tokens a window holds besides its content: [CLS] and [SEP], unless specialTokens is false. */
export function specialTokenCount(context: TaskContext): number {
  return context.options.specialTokens ? 2 : 0;
}

export const CLASSIFY_TOKENS_OPTIONS = [
  {
    name: 'aggregationStrategy',
    type: AGGREGATION_STRATEGIES.map((strategy) => `\`'${strategy}'\``).join(', '),
    defaultText: "`'none'`",
    help: "'none': every token; the others group tokens into entities as the pipeline's aggregation_strategy does",
    read: (value: unknown) => checkOneOf('aggregationStrategy', value ?? 'none', AGGREGATION_STRATEGIES),
  },
  {
    name: 'ignoreLabels',
    type: 'array of strings',
    defaultText: "`['O']`",
    help: 'labels (or entity groups) left out of the answer',
    read: (value: unknown): string[] => {
      const labels = value ?? ['O'];
      assertStringArray('ignoreLabels', labels);
      return labels;
    },
  },
  {
    name: 'stride',
    type: 'integer from 0 to maxSeqLen - 3',
    defaultText: 'none',
    help: "label a text longer than maxSeqLen in windows overlapping by this many tokens, as the pipeline's stride (not with 'none')",
    read: (value: unknown, context: TaskContext) => (value === undefined ? undefined : checkStride(value, context.maxTokens - specialTokenCount(context) + 2)),
  },
  {
    name: 'isTokenized',
    type: 'boolean',
    defaultText: '`false`',
    help: "each input is a list of words (the pipeline's is_split_into_words), read as the words joined by spaces",
    read: readBoolean('isTokenized', false),
  },
  truncateOption('cut a text longer than maxSeqLen when no stride is given; false refuses it with ERR_INPUT_TOO_LONG'),
  SIGNAL,
] as const satisfies readonly TaskOptionDeclaration[];

/** Options of classifyTokens(). */
export type ClassifyTokensOptions = TaskOptions<typeof CLASSIFY_TOKENS_OPTIONS>;
