/** encodeSparse()'s options. */
import { TEXT_CALL_OPTIONS, truncateOption, type TaskOptionDeclaration, type TaskOptions } from '../shared/task-options.js';

export const SPARSE_OPTIONS = [
  ...TEXT_CALL_OPTIONS,
  truncateOption('cut texts longer than maxSeqLen; false refuses them with ERR_INPUT_TOO_LONG'),
] as const satisfies readonly TaskOptionDeclaration[];

/** Options of encodeSparse(). */
export type SparseEncodeOptions = TaskOptions<typeof SPARSE_OPTIONS>;
