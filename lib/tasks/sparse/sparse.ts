/**
 * encodeSparse(): SPLADE sparse lexical vectors from the masked-LM head, as text-embeddings-inference
 * computes them: for each vocabulary id, the max over the sentence's tokens of log(1 + relu(logit)).
 */
import { booleanOption, checkTexts, COMMON_CALL_OPTION_NAMES, readCallOptions } from '../shared/call-options.js';
import type { TaskContext } from '../shared/task-context.js';
import { refuseTextsTooLong, tokenizeText, type TextInput } from '../shared/text-rows.js';
import { sparseFromDense, type SparseVector } from './sparse-vector.js';

/** Options of encodeSparse(). */
export interface SparseEncodeOptions {
  isTokenized?: boolean;
  /** read 'A ||| B' as a sentence pair (default true); false takes the text as written */
  splitPairs?: boolean;
  /** cut texts longer than maxSeqLen (default true); false refuses them with ERR_INPUT_TOO_LONG */
  truncate?: boolean;
  signal?: AbortSignal;
}

export async function encodeSparse(context: TaskContext, texts: string[] | string[][], options: SparseEncodeOptions): Promise<SparseVector[]> {
  const { callOptions, isTokenized, splitPairs, signal } = readCallOptions('encodeSparse', options, ['truncate', ...COMMON_CALL_OPTION_NAMES]);
  const truncate = booleanOption(callOptions, 'truncate', true);
  checkTexts(texts, isTokenized);
  context.capabilities.require('sparse', 'encodeSparse');
  if (!truncate) refuseTextsTooLong(context, texts, isTokenized, splitPairs);
  const inputs: TextInput[] = [...texts];
  const width = context.config.vocabSize;
  const dense = await context.submit({
    count: inputs.length,
    tokenize: (start, end) => inputs.slice(start, end).map((text) => tokenizeText(context, text, isTokenized, splitPairs)),
    head: { kind: 'sparse' },
    rowWidth: width,
    signal,
  });
  return inputs.map((_, row) => sparseFromDense(dense.subarray(row * width, (row + 1) * width)));
}
