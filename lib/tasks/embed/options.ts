/** encode()'s options: the pooling ones (declared with Encoder.load's, option-declarations.ts) override the loaded ones for this call only. */
import { POOLING_OPTIONS } from '../../option-declarations.js';
import type { PoolingOptions } from '../../options.js';
import { readBoolean, TEXT_CALL_OPTIONS, truncateOption, type TaskOptionDeclaration, type TaskOptions } from '../shared/task-options.js';

export const ENCODE_OPTIONS = [
  ...TEXT_CALL_OPTIONS,
  { name: 'showTokens', type: 'boolean', defaultText: '`false`', help: 'return the tokens the model saw beside the vectors', read: readBoolean('showTokens', false) },
  truncateOption('cut texts longer than maxSeqLen, as bert-as-service does; false refuses them with ERR_INPUT_TOO_LONG, as TEI without truncate'),
  // Read as given: resolvePoolingOptions checks them against the model, as Encoder.load does.
  ...POOLING_OPTIONS.map(({ name, type, help }) => ({ name, type, help, defaultText: 'as loaded', read: (value: unknown) => value })),
] as const satisfies readonly TaskOptionDeclaration[];

/** Per-call options of encode(). */
export type EncodeOptions = Omit<TaskOptions<typeof ENCODE_OPTIONS>, keyof PoolingOptions> & PoolingOptions;
