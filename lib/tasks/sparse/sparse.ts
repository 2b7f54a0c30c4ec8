/**
 * encodeSparse(): SPLADE sparse lexical vectors from the masked-LM head, as text-embeddings-inference
 * computes them: for each vocabulary id, the max over the sentence's tokens of log(1 + relu(logit)).
 */
import { checkTexts, COMMON_CALL_OPTION_NAMES, readCallOptions } from '../shared/call-options.js';
import type { TaskContext } from '../shared/task-context.js';
import { tokenizeText, type TextInput } from '../shared/text-rows.js';
import { sparseFromDense, type SparseVector } from './sparse-vector.js';

/** Options of encodeSparse(). */
export interface SparseEncodeOptions {
  isTokenized?: boolean;
  /** read 'A ||| B' as a sentence pair (default true); false takes the text as written */
  splitPairs?: boolean;
  signal?: AbortSignal;
}

export async function encodeSparse(context: TaskContext, texts: string[] | string[][], options: SparseEncodeOptions): Promise<SparseVector[]> {
  const { isTokenized, splitPairs, signal } = readCallOptions('encodeSparse', options, COMMON_CALL_OPTION_NAMES);
  checkTexts(texts, isTokenized);
  context.capabilities.require('sparse', 'encodeSparse');
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
