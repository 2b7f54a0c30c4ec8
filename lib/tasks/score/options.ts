/** score()'s options. */
import { checkOneOf } from '../../validation.js';
import { TEXT_CALL_OPTIONS, type TaskOptionDeclaration, type TaskOptions } from '../shared/task-options.js';
import { SCORE_METRICS } from './sentence-scoring.js';

export const SCORE_OPTIONS = [
  ...TEXT_CALL_OPTIONS,
  {
    name: 'metric',
    type: SCORE_METRICS.map((metric) => `\`'${metric}'\``).join(', '),
    defaultText: "`'within_word_l2r'`",
    help: "which tokens each masked copy hides: 'original' the token alone, 'within_word_l2r' also the word's later pieces, 'whole_word' the whole word",
    read: (value: unknown) => checkOneOf('metric', value ?? 'within_word_l2r', SCORE_METRICS),
  },
] as const satisfies readonly TaskOptionDeclaration[];

/** Options of score(): masked-LM pseudo-log-likelihood of each sentence. */
export type ScoreOptions = TaskOptions<typeof SCORE_OPTIONS>;
