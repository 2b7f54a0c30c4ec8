/**
 * encodeSparse(): SPLADE sparse lexical vectors from the masked-LM head, as text-embeddings-inference
 * computes them: for each vocabulary id, the max over the sentence's tokens of log(1 + relu(logit)).
 */
import { checkTexts } from '../shared/call-options.js';
import type { TaskContext } from '../shared/task-context.js';
import { readTaskOptions } from '../shared/task-options.js';
import { refuseTextsTooLong, tokenizeText, type TextInput } from '../shared/text-rows.js';
import { SPARSE_OPTIONS, type SparseEncodeOptions } from './options.js';
import { sparseFromDense, type SparseVector } from './sparse-vector.js';

export type { SparseEncodeOptions } from './options.js';

export async function encodeSparse(context: TaskContext, texts: string[] | string[][], options: SparseEncodeOptions): Promise<SparseVector[]> {
  const { isTokenized, splitPairs, signal, truncate } = readTaskOptions('encodeSparse', options, SPARSE_OPTIONS, context);
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
