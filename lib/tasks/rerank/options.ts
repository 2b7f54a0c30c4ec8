/** rerank()'s options. */
import { checkInteger } from '../../validation.js';
import { rawScoresOption, readBoolean, SIGNAL, truncateOption, type TaskOptionDeclaration, type TaskOptions } from '../shared/task-options.js';

export const RERANK_OPTIONS = [
  {
    name: 'topK',
    type: 'positive integer',
    defaultText: 'every document',
    help: 'keep the best topK documents',
    read: (value: unknown) => (value === undefined ? undefined : checkInteger('topK', value, 1)),
  },
  { name: 'returnDocuments', type: 'boolean', defaultText: '`false`', help: 'give each result its document', read: readBoolean('returnDocuments', false) },
  rawScoresOption("the classifier's logit instead of CrossEncoder's activation of it"),
  truncateOption('cut query–document pairs longer than maxSeqLen, as CrossEncoder.predict does; false refuses them with ERR_INPUT_TOO_LONG'),
  SIGNAL,
] as const satisfies readonly TaskOptionDeclaration[];

/** Options of rerank(). */
export type RerankOptions = TaskOptions<typeof RERANK_OPTIONS>;
