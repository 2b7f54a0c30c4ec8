/** classify()'s options. */
import { checkInteger } from '../../validation.js';
import { rawScoresOption, SIGNAL, truncateOption, type TaskOptionDeclaration, type TaskOptions } from '../shared/task-options.js';
import type { TaskContext } from '../shared/task-context.js';

export const CLASSIFY_OPTIONS = [
  {
    name: 'topK',
    type: 'integer from 1 to the number of labels',
    defaultText: 'every label',
    help: 'labels per input, best first',
    // Without a classifier the call is refused by name right after; no bound to hold topK to before that.
    read: (value: unknown, context: TaskContext) => (value === undefined ? undefined : checkInteger('topK', value, 1, context.capabilities.classifier?.labels.length ?? Infinity)),
  },
  rawScoresOption("logits instead of the pipeline's softmax (sigmoid for multi-label or one-label models)"),
  truncateOption('cut inputs longer than maxSeqLen; false refuses them with ERR_INPUT_TOO_LONG'),
  SIGNAL,
] as const satisfies readonly TaskOptionDeclaration[];

/** Options of classify(). */
export type ClassifyOptions = TaskOptions<typeof CLASSIFY_OPTIONS>;
