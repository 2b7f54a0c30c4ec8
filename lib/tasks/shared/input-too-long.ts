/** The refusal of an input longer than maxSeqLen when truncation was not asked for, its field and option named by the caller's surface. */
import { BertEmbedError } from '../../errors.js';
import { namingError } from '../../validation.js';

export function inputTooLong(field: string, tokens: number, maxTokens: number): BertEmbedError {
  return namingError(
    (message) => new BertEmbedError(message, 'ERR_INPUT_TOO_LONG'),
    (naming) => `${naming.field(field)} has ${tokens} tokens, more than maxSeqLen ${maxTokens}; ${naming.option('truncate', true)} to cut it`,
  );
}
