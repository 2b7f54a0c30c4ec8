/**
 * From the classification head's logits (float32 [rows, labels], native) to labels with scores as
 * transformers' text-classification pipeline gives them. Activations run in float64.
 */
import type { ClassifierConfig } from '../../model/classifier-config.js';

export interface LabelScore {
  label: string;
  score: number;
}

/** The function the text-classification pipeline applies: softmax, sigmoid, or none (regression). */
export type PipelineFunction = 'softmax' | 'sigmoid' | 'none';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** transformers' TextClassificationPipeline: regression → none, multi-label or one label → sigmoid, else softmax. */
export function pipelineFunctionFor(config: ClassifierConfig): PipelineFunction {
  if (config.problemType === 'regression') return 'none';
  if (config.problemType === 'multi_label_classification' || config.labels.length === 1) return 'sigmoid';
  return 'softmax';
}

/** One row's labels and scores, best first, at most topK of them. */
export function labelScores(logits: Float32Array, offset: number, labels: readonly string[], fn: PipelineFunction, topK: number): LabelScore[] {
  const values = Array.from(logits.subarray(offset, offset + labels.length), Number);
  let scores = values;
  if (fn === 'sigmoid') scores = values.map(sigmoid);
  else if (fn === 'softmax') {
    const max = Math.max(...values);
    const exps = values.map((value) => Math.exp(value - max));
    const sum = exps.reduce((total, value) => total + value, 0);
    scores = exps.map((value) => value / sum);
  }
  return scores
    .map((score, id) => ({ label: labels[id], score }))
    .sort((a, b) => b.score - a.score)
    .slice(0, topK);
}
