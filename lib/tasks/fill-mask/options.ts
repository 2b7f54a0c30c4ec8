/** fillMask()'s options. */
import { checkInteger } from '../../validation.js';
import { TEXT_CALL_OPTIONS, type TaskOptionDeclaration, type TaskOptions } from '../shared/task-options.js';
import type { TaskContext } from '../shared/task-context.js';

export const FILL_MASK_OPTIONS = [
  ...TEXT_CALL_OPTIONS,
  {
    name: 'topK',
    type: 'integer from 1 to the vocabulary size',
    defaultText: '`5`',
    help: 'candidates per [MASK], best first',
    read: (value: unknown, context: TaskContext) => checkInteger('topK', value ?? 5, 1, context.config.vocabSize),
  },
] as const satisfies readonly TaskOptionDeclaration[];

/** Options of fillMask(). */
export type FillMaskOptions = TaskOptions<typeof FILL_MASK_OPTIONS>;
