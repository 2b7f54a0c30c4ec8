/** Reranking scores as sentence-transformers' CrossEncoder.predict gives them, from the classifier's one logit per pair. */
import type { CrossEncoderActivation } from '../../model/classifier-config.js';

export interface RerankResult {
  /** the document's index in the call's list */
  index: number;
  score: number;
  /** the document, with returnDocuments */
  document?: string;
  /** maxSeqLen cut the query–document pair */
  truncated: boolean;
}

export function applyCrossEncoderActivation(logit: number, activation: CrossEncoderActivation): number {
  if (activation === 'sigmoid') return 1 / (1 + Math.exp(-logit));
  if (activation === 'tanh') return Math.tanh(logit);
  return logit;
}

