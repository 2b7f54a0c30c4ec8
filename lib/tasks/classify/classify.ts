/**
 * classify(): labels of each input (a text, or a [textA, textB] pair) with BertForSequenceClassification's
 * head, best first: softmax over the labels, or a sigmoid each for multi_label_classification (and one
 * label), as transformers' text-classification pipeline gives them; logits with rawScores.
 */
import { sequenceClassifierLogits } from '../shared/classifier-logits.js';
import { checkClassifyInputs, type ClassifyInput, encodePair } from '../shared/pair-inputs.js';
import type { TaskContext } from '../shared/task-context.js';
import { readTaskOptions } from '../shared/task-options.js';
import { labelScores, pipelineFunctionFor, type LabelScore } from './label-scores.js';
import { CLASSIFY_OPTIONS, type ClassifyOptions } from './options.js';

export type { ClassifyOptions } from './options.js';

/** One input's labels, best first, and whether maxSeqLen cut it. */
export interface ClassifyResult {
  labels: LabelScore[];
  truncated: boolean;
}

export async function classify(context: TaskContext, inputs: ClassifyInput[], options: ClassifyOptions): Promise<ClassifyResult[]> {
  const { topK, rawScores, truncate, signal } = readTaskOptions('classify', options, CLASSIFY_OPTIONS, context);
  checkClassifyInputs(inputs);
  const classifier = context.capabilities.requireClassifier('classification', 'classify');
  const labelCount = classifier.labels.length;
  const settings = { maxTokens: context.maxTokens, specialTokens: context.options.specialTokens, truncate };
  const encoded = [...inputs].map((input, i) =>
    typeof input === 'string'
      ? encodePair(context.tokenizer, input, undefined, { ...settings, field: `inputs[${i}]` })
      : encodePair(context.tokenizer, input[0], input[1], { ...settings, field: `inputs[${i}]` }),
  );
  const logits = await sequenceClassifierLogits(context, encoded, labelCount, signal);
  const fn = rawScores ? 'none' : pipelineFunctionFor(classifier);
  return encoded.map((input, row) => ({ labels: labelScores(logits, row * labelCount, classifier.labels, fn, topK ?? labelCount), truncated: input.truncated }));
}
