import { POOLING_OPTION_NAMES, type PoolingOptions } from '../../options.js';
import { COMMON_CALL_OPTION_NAMES } from '../shared/call-options.js';

/** Per-call options; the pooling ones override those given to Encoder.load for this call only. */
export interface EncodeOptions extends PoolingOptions {
  /** input is already split into tokens (string[][]); each is looked up in the vocabulary as it is */
  isTokenized?: boolean;
  /** return the tokens the model saw beside the vectors */
  showTokens?: boolean;
  /**
   * read a text 'A ||| B' as the sentence pair (A, B), bert-as-service's convention (default true);
   * false encodes every text as written, for APIs without pairs. Not used with isTokenized.
   */
  splitPairs?: boolean;
  /** cut texts longer than maxSeqLen (default true, as bert-as-service); false refuses them with ERR_INPUT_TOO_LONG, as TEI without truncate */
  truncate?: boolean;
  /** cancels the call: its sentences still queued are dropped and the promise rejects */
  signal?: AbortSignal;
}

export const ENCODE_OPTION_NAMES = ['showTokens', 'truncate', ...COMMON_CALL_OPTION_NAMES, ...POOLING_OPTION_NAMES];
