/**
 * rerank(): scores each document against the query with a cross-encoder (BertForSequenceClassification
 * with one label), best first, as sentence-transformers' CrossEncoder.predict gives them (its activation,
 * sigmoid by default; the logit with rawScores). Pairs longer than maxSeqLen are cut as CrossEncoder
 * cuts them (longest_first) and marked `truncated`.
 */
import { BertEmbedError } from '../../errors.js';
import { sequenceClassifierLogits } from '../shared/classifier-logits.js';
import { checkQueryAndDocuments, encodePair } from '../shared/pair-inputs.js';
import type { TaskContext } from '../shared/task-context.js';
import { readTaskOptions } from '../shared/task-options.js';
import { applyCrossEncoderActivation, type RerankResult } from './cross-encoder-scores.js';
import { RERANK_OPTIONS, type RerankOptions } from './options.js';

export type { RerankOptions } from './options.js';

export async function rerank(context: TaskContext, query: string, documents: string[], options: RerankOptions): Promise<RerankResult[]> {
  const { topK, returnDocuments, rawScores, truncate, signal } = readTaskOptions('rerank', options, RERANK_OPTIONS, context);
  checkQueryAndDocuments(query, documents);
  const classifier = context.capabilities.requireClassifier('classification', 'rerank');
  if (classifier.labels.length !== 1) {
    throw new BertEmbedError(
      `rerank needs a cross-encoder (a classifier with one label), but ${context.modelDir} has ${classifier.labels.length} labels (${classifier.labels.join(', ')}): use classify`,
      'ERR_NO_CLASSIFIER_HEAD',
    );
  }
  if (!rawScores && classifier.unsupportedActivation) {
    throw new BertEmbedError(`${context.modelDir}'s config.json asks CrossEncoder for activation ${classifier.unsupportedActivation}, which bert-embed-native does not have; pass rawScores: true for the logits`, 'ERR_MODEL_CONFIG');
  }
  const docs = [...documents];
  const settings = { maxTokens: context.maxTokens, specialTokens: context.options.specialTokens, truncate };
  const pairs = docs.map((document, i) => encodePair(context.tokenizer, query, document, { ...settings, field: `documents[${i}]` }));
  const logits = await sequenceClassifierLogits(context, pairs, 1, signal);
  const results = docs.map((document, index): RerankResult => {
    const score = rawScores ? logits[index] : applyCrossEncoderActivation(logits[index], classifier.crossEncoderActivation);
    return { index, score, ...(returnDocuments ? { document } : {}), truncated: pairs[index].truncated };
  });
  return results.sort((a, b) => b.score - a.score || a.index - b.index).slice(0, topK ?? docs.length);
}
