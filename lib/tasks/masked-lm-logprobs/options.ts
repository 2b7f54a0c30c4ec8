/** maskedLmLogProbs()'s options. */
import { SIGNAL, type TaskOptionDeclaration, type TaskOptions } from '../shared/task-options.js';

export const MASKED_LM_LOGPROBS_OPTIONS = [SIGNAL] as const satisfies readonly TaskOptionDeclaration[];

export type MaskedLmLogProbsOptions = TaskOptions<typeof MASKED_LM_LOGPROBS_OPTIONS>;
